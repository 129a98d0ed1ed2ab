import { lastValueFrom, map, type Observable } from "rxjs";
import { createCodec } from "../../avro/index.js";
import {
  cassandraSink,
  type CassandraClient,
} from "../../connectors/cassandra/index.js";
import {
  DEAD_LETTER_HEADERS,
  kafkaSink,
  kafkaSource,
  type KafkaSink,
  type KafkaSource,
} from "../../connectors/kafka/index.js";
import { memcachedDedupeStore } from "../../connectors/memcached/index.js";
import {
  migratePostgres,
  postgresSink,
  type MigrationResult,
  type PostgresPool,
} from "../../connectors/postgres/index.js";
import type { Sink, Source } from "../../connectors/types.js";
import { writeTo } from "../../connectors/write-to.js";
import type { DeadLetter } from "../../operators/dead-letter.js";
import { memoryStateBackend } from "../../operators/memory-state-backend.js";
import {
  statePartitionOf,
  type StateBackend,
} from "../../operators/state-backend.js";
import { dedupe } from "../../operators/dedupe.js";
import { assertCapacity } from "../../runtime/capacity.js";
import { derive, type Record } from "../../operators/record.js";
import { branch, route } from "../../operators/route.js";
import { tee } from "../../operators/tee.js";
import {
  applyReviewsSchema,
  cassandraReviewStore,
} from "./cassandra-review-store.js";
import type { ChangeFeed } from "./cdc/change-feed.js";
import { cassandraChangeFeed } from "./cdc/cassandra-change-feed.js";
import { filePositionStore } from "./cdc/position-store.js";
import {
  cdcRelay,
  type CdcRelay,
  type ReviewEventValue as PublishedReviewEvent,
} from "./cdc/relay.js";
import { reviewsCql } from "./cql.js";
import {
  enrichReviews,
  type EnrichedReview,
  type EnrichmentCounters,
  type ReviewEventValue,
} from "./enrichment.js";
import { generateCatalog } from "./catalog.js";
import {
  allMovies,
  countMovies,
  migrateCatalog,
  postgresMovieRepo,
  postgresUserRepo,
} from "./postgres-catalog.js";
import { checkpointGatedDedupe, gatedId } from "./checkpoint-gated-dedupe.js";
import type { TasteModel } from "./recommend.js";
import {
  recommend,
  type MovieRatingStats,
  type RecommendationOutput,
  type UserRecommendations,
} from "./recommendation.js";
import {
  movieServiceClient,
  reviewServiceClient,
  serveMovieService,
  serveReviewService,
  serveUserService,
  userServiceClient,
  type RpcServer,
} from "./services.js";

/**
 * Where the on-stack pieces register what they open, so it is closed in order: a job's
 * {@link JobContext} (sources first, then sinks, then `onShutdown`) or {@link localWiring}.
 */
export interface Wiring {
  /** With `state`, a job's runtime checkpoints that keyed state with the source's offsets. */
  addSource<S extends Source<unknown>>(
    source: S,
    options?: { readonly state?: StateBackend },
  ): S;
  addSink<S extends Sink<unknown>>(sink: S): S;
  onShutdown(fn: () => Promise<void> | void): void;
}

/**
 * A {@link Wiring} for one process that is not run by the runtime (the `--stack local` demo,
 * integration tests): `close()` closes sources, then sinks, then the rest, last in first out.
 *
 * @example
 * ```ts
 * const w = localWiring();
 * await startReviewService(w, { cassandra, keyspace: "reviews", port: 0 });
 * await w.close();
 * ```
 */
export function localWiring(): Wiring & { close(): Promise<void> } {
  const sources: Source<unknown>[] = [];
  const sinks: Sink<unknown>[] = [];
  const rest: (() => Promise<void> | void)[] = [];
  let closed: Promise<void> | undefined;
  return {
    addSource: (s) => (sources.push(s), s),
    addSink: (s) => (sinks.push(s), s),
    onShutdown: (fn) => void rest.push(fn),
    close: () =>
      (closed ??= (async () => {
        await Promise.all(sources.map((s) => s.close()));
        await Promise.all(sinks.map((s) => s.flush().then(() => s.close())));
        for (const fn of rest.reverse()) await fn();
      })()),
  };
}

const eventCodec = createCodec<ReviewEventValue>(
  "dev.sluice.reviews.ReviewEvent",
);
const publishedCodec = createCodec<PublishedReviewEvent>(
  "dev.sluice.reviews.ReviewEvent",
);
const enrichedCodec = createCodec<EnrichedReview>(
  "dev.sluice.reviews.EnrichedReview",
);

/** Decodes a `reviews` event (Avro ReviewEvent); throws on bad bytes (a decode dead letter). */
export const decodeReviewEvent = (bytes: Buffer): ReviewEventValue =>
  eventCodec.decode(bytes);
/** Decodes a `reviews-enriched` record (Avro EnrichedReview). */
export const decodeEnrichedReview = (bytes: Buffer): EnrichedReview =>
  enrichedCodec.decode(bytes);

// ---------------------------------------------------------------------------------------------
// Review service (C.6.1)

export interface ReviewServiceOptions {
  readonly cassandra: CassandraClient;
  readonly keyspace: string;
  readonly port: number;
  readonly host?: string;
}

/** Applies the reviews CQL schema and serves the review service over Avro RPC on Cassandra. */
export async function startReviewService(
  w: Wiring,
  o: ReviewServiceOptions,
): Promise<RpcServer> {
  await applyReviewsSchema(o.cassandra, { keyspace: o.keyspace });
  const server = await serveReviewService(
    cassandraReviewStore(o.cassandra, o.keyspace),
    { port: o.port, ...(o.host !== undefined ? { host: o.host } : {}) },
  );
  w.onShutdown(() => server.close());
  return server;
}

// ---------------------------------------------------------------------------------------------
// Movie and user services (C.2, C.3)

export interface CatalogServicesOptions {
  readonly postgres: PostgresPool;
  readonly schema: string;
  readonly moviePort: number;
  readonly userPort: number;
  readonly host?: string;
  /** Generated catalogue written when the movie table is empty. */
  readonly seed: {
    readonly movies: number;
    readonly users: number;
    readonly seed: number;
  };
}

/** Migrates the catalogue schema, seeds a generated catalogue if empty, serves both services. */
export async function startCatalogServices(
  w: Wiring,
  o: CatalogServicesOptions,
): Promise<{
  readonly movieServer: RpcServer;
  readonly userServer: RpcServer;
  readonly seeded: number;
}> {
  await migrateCatalog(o.postgres, { schema: o.schema });
  const movies = postgresMovieRepo(o.postgres, o.schema);
  const users = postgresUserRepo(o.postgres, o.schema);
  let seeded = 0;
  if ((await countMovies(o.postgres, o.schema)) === 0) {
    const catalog = generateCatalog(o.seed);
    await movies.upsertMany(catalog.movies);
    await users.upsertMany(catalog.users);
    seeded = catalog.movies.length;
  }
  const host = o.host !== undefined ? { host: o.host } : {};
  const movieServer = await serveMovieService(movies, {
    port: o.moviePort,
    ...host,
  });
  w.onShutdown(() => movieServer.close());
  const userServer = await serveUserService(users, {
    port: o.userPort,
    ...host,
  });
  w.onShutdown(() => userServer.close());
  return { movieServer, userServer, seeded };
}

// ---------------------------------------------------------------------------------------------
// CDC relay (C.5.2)

export interface CdcOptions {
  readonly brokers: readonly string[];
  readonly contactPoints: readonly string[];
  readonly localDataCenter: string;
  /** Keyspace of the `reviews` table. */
  readonly keyspace: string;
  readonly topic: string;
  /** File of the relay's last published position. */
  readonly positionFile: string;
  /** A feed to use instead of Cassandra's cdc_raw (tests). */
  readonly feed?: ChangeFeed;
}

/** Cassandra's change log of `<keyspace>.reviews` → ReviewEvents (ids only) on `topic`. */
export async function startCdc(
  w: Wiring,
  o: CdcOptions,
): Promise<{ readonly relay: CdcRelay; readonly feed: ChangeFeed }> {
  const table = `${o.keyspace}.reviews`;
  const feed =
    o.feed ??
    cassandraChangeFeed({
      tables: [table],
      contactPoints: o.contactPoints,
      localDataCenter: o.localDataCenter,
    });
  const sink = kafkaSink<PublishedReviewEvent>({
    brokers: o.brokers,
    topic: o.topic,
    encode: (v) => publishedCodec.encode(v),
  });
  const relay = await cdcRelay({
    feed,
    sink,
    positions: filePositionStore(o.positionFile),
    tables: [table],
    idColumn: "review_id",
    topic: o.topic,
  });
  // The relay writes what it has queued on close, but leaves its sink and feed to us: close
  // them after it (an open producer kept `sluice demo --stack local` from exiting).
  w.onShutdown(async () => {
    await relay.close();
    await sink.close();
    await feed.close();
  });
  return { relay, feed };
}

// ---------------------------------------------------------------------------------------------
// Dead letters of pipeline stages (decode dead letters are written by the Kafka source)

/** JSON of a failed value: Buffers as base64, Dates as ISO strings. */
function deadLetterBytes(value: unknown): Buffer {
  if (Buffer.isBuffer(value)) return value;
  return Buffer.from(
    JSON.stringify(value, (_k, v: unknown) =>
      typeof v === "object" &&
      v !== null &&
      (v as { type?: unknown }).type === "Buffer"
        ? Buffer.from((v as { data: number[] }).data).toString("base64")
        : v,
    ),
    "utf8",
  );
}

/** Writes stage dead letters to a Kafka topic with the reason in the `sluice.*` headers. */
export function kafkaDeadLetters(
  sink: KafkaSink<Buffer>,
): (dl$: Observable<Record<DeadLetter<unknown>>>) => Observable<unknown> {
  return (dl$) =>
    dl$.pipe(
      map((d) => {
        const { reason } = d.value;
        return derive(d, deadLetterBytes(d.value.value), {
          headers: {
            ...d.headers,
            [DEAD_LETTER_HEADERS.code]: reason.code,
            [DEAD_LETTER_HEADERS.message]: reason.message,
            [DEAD_LETTER_HEADERS.stage]: reason.stage,
            ...(reason.origin !== undefined
              ? {
                  [DEAD_LETTER_HEADERS.topic]: reason.origin.topic,
                  [DEAD_LETTER_HEADERS.partition]: String(
                    reason.origin.partition,
                  ),
                  [DEAD_LETTER_HEADERS.offset]: String(reason.origin.offset),
                }
              : {}),
          },
        });
      }),
      writeTo(sink, { maxBatch: 50, maxWaitMs: 20 }),
    );
}

// ---------------------------------------------------------------------------------------------
// Enrichment job (C.4.1, C.6.3, C.7)

export interface EnrichmentJobOptions {
  readonly brokers: readonly string[];
  readonly group: string;
  readonly topic: string;
  readonly enrichedTopic: string;
  readonly deadLetterTopic: string;
  readonly reviewService: { readonly host: string; readonly port: number };
  readonly movieService: { readonly host: string; readonly port: number };
  readonly userService: { readonly host: string; readonly port: number };
  readonly memcachedServers: readonly string[];
  /** Key prefix of this job's processed ids in memcached (its own "EVCache", C.7.1). */
  readonly dedupeKeyPrefix: string;
  readonly dedupeTtlMs: number;
  /** Life of an unconfirmed claim on an event id (the wait after a crash). Default 60 s. */
  readonly dedupeClaimTtlMs?: number;
  readonly maxInFlight?: number;
  readonly rpcTimeoutMs?: number;
}

export interface RunningJob<C> {
  readonly source: KafkaSource<unknown>;
  /** Resolves when the source completes (closed by shutdown); rejects when the pipeline fails. */
  readonly done: Promise<void>;
  readonly counters: C;
}

/**
 * The enrichment job on the stack: `reviews` (ReviewEvent, undecodable → dead-letter topic)
 * → dedupe (near lru-cache + memcached) → latest review, movie and user over Avro RPC →
 * `reviews-enriched`, keyed by user.
 */
export async function startEnrichment(
  w: Wiring,
  o: EnrichmentJobOptions,
): Promise<RunningJob<EnrichmentCounters>> {
  const timeoutMs = o.rpcTimeoutMs ?? 5_000;
  const reviews = await reviewServiceClient({ ...o.reviewService, timeoutMs });
  w.onShutdown(() => reviews.close());
  const movies = await movieServiceClient({ ...o.movieService, timeoutMs });
  w.onShutdown(() => movies.close());
  const users = await userServiceClient({ ...o.userService, timeoutMs });
  w.onShutdown(() => users.close());
  const store = memcachedDedupeStore({
    servers: o.memcachedServers,
    keyPrefix: o.dedupeKeyPrefix,
    name: "reviews-enrichment-dedupe",
  });
  w.onShutdown(() => store.close());

  const source = w.addSource(
    kafkaSource<ReviewEventValue>({
      brokers: o.brokers,
      group: o.group,
      topics: [o.topic],
      decode: decodeReviewEvent,
      deadLetterTopic: o.deadLetterTopic,
      maxInFlight: o.maxInFlight ?? 2_000,
      name: "reviews-enrichment",
    }),
  );
  const dlq = w.addSink(
    kafkaSink<Buffer>({
      brokers: o.brokers,
      topic: o.deadLetterTopic,
      encode: (b) => b,
      name: "reviews-enrichment-dead-letters",
    }),
  );
  const enriched = w.addSink(
    kafkaSink<EnrichedReview>({
      brokers: o.brokers,
      topic: o.enrichedTopic,
      encode: (v) => enrichedCodec.encode(v),
      name: "reviews-enriched",
      maxInFlight: 2,
    }),
  );
  const enrichment = enrichReviews({
    reviews,
    movies,
    users,
    dedupeStore: store,
    dedupeTtlMs: o.dedupeTtlMs,
    ...(o.dedupeClaimTtlMs !== undefined
      ? { dedupeClaimTtlMs: o.dedupeClaimTtlMs }
      : {}),
    deadLetters: kafkaDeadLetters(dlq),
  });
  const done = lastValueFrom(
    source
      .records()
      .pipe(
        enrichment.operator,
        writeTo(enriched, { maxBatch: 200, maxWaitMs: 10 }),
      ),
    { defaultValue: undefined },
  ).then(() => undefined);
  return {
    source: source,
    done,
    counters: enrichment.counters,
  };
}

// ---------------------------------------------------------------------------------------------
// Recommendation job (C.1.2, C.7)

export interface RecommendationJobOptions {
  readonly brokers: readonly string[];
  readonly group: string;
  readonly enrichedTopic: string;
  readonly deadLetterTopic: string;
  readonly cassandra: CassandraClient;
  /** Keyspace of `user_recommendations` (created if missing). */
  readonly keyspace: string;
  readonly postgres: PostgresPool;
  /** Schema of the analytics tables (migrated at start). */
  readonly analyticsSchema: string;
  /** Schema of the catalogue, read once for movies nobody rated yet. */
  readonly catalogSchema: string;
  readonly memcachedServers: readonly string[];
  readonly dedupeKeyPrefix: string;
  readonly dedupeTtlMs: number;
  /** Life of an unconfirmed claim on an event id (the wait after a crash). Default 60 s. */
  readonly dedupeClaimTtlMs?: number;
  readonly topK?: number;
  readonly statsWindowMs?: number;
  readonly statsRetentionMs?: number;
  /** Records read but not yet written, over all partitions. Default 2 000. */
  readonly maxInFlight?: number;
  /** Records waiting for their dedupe claim; default and floor: `maxInFlight` ({@link recommendationCaps}). */
  readonly dedupeMaxBuffered?: number;
  /**
   * Chaos suite only: confirm event ids in memcached before a checkpoint holds their effect
   * (the old, unsafe order), to show the suite catches the loss. Default false.
   */
  readonly unsafeConfirmBeforeCheckpoint?: boolean;
  /** Sees every rating that changed a user's state (the demo reads it after the run). */
  readonly mirror?: TasteModel;
  /** Sees every output once it is written (the demo's summary). */
  readonly onOutput?: (output: RecommendationOutput) => void;
}

/** Migrates the analytics tables (`movie_rating_stats`, `user_recommendations`, `recommendations_latest`). */
export function migrateAnalytics(
  db: PostgresPool,
  schema: string,
): Promise<MigrationResult> {
  return migratePostgres(db, {
    schema,
    directory: new URL("./migrations/analytics/", import.meta.url),
  });
}

/** Creates `<keyspace>.user_recommendations` (and the keyspace) if missing. */
export async function applyRecommendationsSchema(
  db: CassandraClient,
  keyspace: string,
): Promise<void> {
  await db.connect();
  await db.client.execute(
    reviewsCql("create-keyspace", {
      keyspace,
      replication: db.options.replication,
    }),
    [],
    { prepare: false },
  );
  await db.client.execute(
    reviewsCql("create-user-recommendations", { keyspace }),
    [],
    { prepare: false },
  );
}

const recommendationColumns = (u: UserRecommendations) => ({
  user_id: u.userId,
  display_name: u.displayName,
  movie_ids: u.recommendations.map((r) => r.movieId),
  titles: u.recommendations.map((r) => r.title),
  scores: u.recommendations.map((r) => r.score),
  reasons: u.recommendations.map((r) => r.reason),
  model_version: u.modelVersion,
  generated_at: new Date(u.generatedAt),
  triggered_by: u.triggeredBy,
});
const statsColumns = (s: MovieRatingStats) => ({
  movie_id: s.movieId,
  window_start: new Date(s.windowStart),
  source_partition: s.partition,
  window_end: new Date(s.windowEnd),
  title: s.title,
  reviews: s.reviews,
  rating_sum: s.ratingSum,
  histogram: s.histogram,
});
const RECOMMENDATION_COLUMNS = Object.keys(
  recommendationColumns({
    kind: "recommendations",
    userId: 0,
    displayName: "",
    recommendations: [],
    modelVersion: "",
    generatedAt: 0,
    triggeredBy: "",
    cause: "",
  }),
);

/**
 * The buffer sizes of the recommendation job, derived from one another: the dedupe stage
 * holds as many waiting records as the source may have in flight, so a slow far store can
 * never overflow it (issue 16: 2 000 in flight against a buffer of 1 000 crashed the job
 * with any backlog). A buffer set below the cap is refused, naming both fields.
 *
 * @example
 * ```ts
 * recommendationCaps({}); // { maxInFlight: 2000, dedupeMaxBuffered: 2000 }
 * ```
 */
export function recommendationCaps(o: {
  readonly maxInFlight?: number | undefined;
  readonly dedupeMaxBuffered?: number | undefined;
}): { readonly maxInFlight: number; readonly dedupeMaxBuffered: number } {
  const maxInFlight = o.maxInFlight ?? 2_000;
  const dedupeMaxBuffered = o.dedupeMaxBuffered ?? maxInFlight;
  assertCapacity(
    { field: "maxInFlight", value: maxInFlight },
    { field: "dedupeMaxBuffered", value: dedupeMaxBuffered },
  );
  return { maxInFlight, dedupeMaxBuffered };
}

/**
 * The recommendation job on the stack: `reviews-enriched` → dedupe (its own memcached
 * prefix, confirms held back until a checkpoint covers them) → per-user recommendations and
 * per-partition movie stats from keyed state → `user_recommendations` in Cassandra and
 * PostgreSQL (one row per user, upserted; a pure function of the user's reviews) and
 * `movie_rating_stats_parts` in PostgreSQL (one row per movie, window and input partition;
 * the `movie_rating_stats` view sums them). The keyed state is registered with the source, so
 * a job run by the runtime checkpoints it with the offsets and restores both on assignment.
 */
export async function startRecommendation(
  w: Wiring,
  o: RecommendationJobOptions,
): Promise<RunningJob<{ readonly state: StateBackend }>> {
  const caps = recommendationCaps(o);
  await applyRecommendationsSchema(o.cassandra, o.keyspace);
  await migrateAnalytics(o.postgres, o.analyticsSchema);
  const catalog = await allMovies(o.postgres, o.catalogSchema);
  const far = memcachedDedupeStore({
    servers: o.memcachedServers,
    keyPrefix: o.dedupeKeyPrefix,
    name: "reviews-recommendation-dedupe",
  });
  const gated = checkpointGatedDedupe(far, memoryStateBackend(), {
    unsafeConfirmBeforeCheckpoint: o.unsafeConfirmBeforeCheckpoint === true,
  });
  // Runs after the sources' final checkpoint: waits for the confirms it allowed.
  w.onShutdown(async () => {
    await gated.flush();
    await far.close();
  });
  const source = w.addSource(
    kafkaSource<EnrichedReview>({
      brokers: o.brokers,
      group: o.group,
      topics: [o.enrichedTopic],
      decode: decodeEnrichedReview,
      deadLetterTopic: o.deadLetterTopic,
      // Nothing is held between records, so a small cap suffices, and a checkpoint barrier
      // waits for at most this many rows to be written.
      maxInFlight: caps.maxInFlight,
      name: "reviews-recommendation",
    }),
    { state: gated.backend },
  );
  const cassandraRecs = w.addSink(
    cassandraSink<UserRecommendations>(o.cassandra, {
      keyspace: o.keyspace,
      table: "user_recommendations",
      columns: RECOMMENDATION_COLUMNS,
      toRow: (r) => recommendationColumns(r.value),
    }),
  );
  const postgresRecs = w.addSink(
    postgresSink<UserRecommendations>(o.postgres, {
      schema: o.analyticsSchema,
      table: "user_recommendations",
      columns: RECOMMENDATION_COLUMNS,
      keyColumns: ["user_id"],
      // generated_at is the newest rating's event time: it never goes back for a user.
      versionColumn: "generated_at",
      // One batch at a time, so a user's later row is never overtaken by an earlier one
      // with the same generated_at (an older review that arrived late).
      maxInFlight: 1,
      toRow: (r) => recommendationColumns(r.value),
    }),
  );
  const stats = w.addSink(
    postgresSink<MovieRatingStats>(o.postgres, {
      schema: o.analyticsSchema,
      table: "movie_rating_stats_parts",
      columns: Object.keys(
        statsColumns({
          kind: "movie-stats",
          movieId: 0,
          title: "",
          windowStart: 0,
          windowEnd: 0,
          partition: 0,
          reviews: 0,
          ratingSum: 0,
          meanRating: 0,
          histogram: [],
        }),
      ),
      keyColumns: ["movie_id", "window_start", "source_partition"],
      // A part's count only grows; one batch at a time keeps a later part last.
      versionColumn: "reviews",
      maxInFlight: 1,
      toRow: ({ value }) => statsColumns(value),
    }),
  );
  const seen = (r: Record<RecommendationOutput>): void => {
    o.onOutput?.(r.value);
  };
  const isRecs = (
    r: Record<RecommendationOutput>,
  ): r is Record<UserRecommendations> => r.value.kind === "recommendations";
  const isStats = (
    r: Record<RecommendationOutput>,
  ): r is Record<MovieRatingStats> => r.value.kind === "movie-stats";
  const done = lastValueFrom(
    source.records().pipe(
      dedupe<EnrichedReview>({
        idOf: (r) =>
          gatedId(statePartitionOf(r.origin), r.value.metadata.eventId),
        store: gated.store,
        ttlMs: o.dedupeTtlMs,
        // The gated store answers this process's confirmed ids itself; a near cache would
        // keep them across a restore that threw their effects away.
        nearCacheSize: 0,
        maxBuffered: caps.dedupeMaxBuffered,
        ...(o.dedupeClaimTtlMs !== undefined
          ? { claimTtlMs: o.dedupeClaimTtlMs }
          : {}),
      }),
      recommend({
        backend: gated.backend,
        catalog,
        ...(o.mirror !== undefined ? { mirror: o.mirror } : {}),
        ...(o.topK !== undefined ? { topK: o.topK } : {}),
        ...(o.statsWindowMs !== undefined
          ? { statsWindowMs: o.statsWindowMs }
          : {}),
        ...(o.statsRetentionMs !== undefined
          ? { statsRetentionMs: o.statsRetentionMs }
          : {}),
      }),
      map((r) => (seen(r), r)),
      // Each kind to its tables (any other kind is acked). One recommendation, two
      // tables: it is done when both have it.
      route(
        branch(
          isRecs,
          tee(
            writeTo(cassandraRecs, { maxBatch: 200, maxWaitMs: 20 }),
            writeTo(postgresRecs, { maxBatch: 200, maxWaitMs: 20 }),
          ),
        ),
        branch(isStats, writeTo(stats, { maxBatch: 500, maxWaitMs: 20 })),
      ),
    ),
    { defaultValue: undefined },
  ).then(() => undefined);
  return {
    source: source,
    done,
    counters: { state: gated.backend },
  };
}
