import {
  lastValueFrom,
  map,
  type Observable,
  type OperatorFunction,
} from "rxjs";
import { createCodec, type Codec } from "../../avro/index.js";
import {
  memorySink,
  memorySource,
  MemoryLog,
} from "../../connectors/memory/index.js";
import type { OutgoingRecord, Sink } from "../../connectors/types.js";
import { writeTo } from "../../connectors/write-to.js";
import { ackAfter } from "../../operators/ack-after.js";
import { deadLetter, type DeadLetter } from "../../operators/dead-letter.js";
import { memoryDedupeStore } from "../../operators/memory-dedupe-store.js";
import type { Outcome } from "../../operators/outcome.js";
import { derive, type Record } from "../../operators/record.js";
import { generateCatalog, type Catalog } from "./catalog.js";
import { memoryMovieRepo, memoryUserRepo } from "./catalog-repo.js";
import {
  cdcRelay,
  type ReviewEventValue as PublishedReviewEvent,
} from "./cdc/relay.js";
import { memoryChangeFeed } from "./cdc/memory-change-feed.js";
import { memoryPositionStore } from "./cdc/position-store.js";
import {
  enrichReviews,
  type EnrichedReview,
  type ReviewEventValue,
} from "./enrichment.js";
import { ChainObserver, corruptEvent, submitReviews } from "./chain-parts.js";
import { TasteModel } from "./recommend.js";
import {
  recommend,
  type MovieRatingStats,
  type RecommendationOutput,
  type UserRecommendations,
} from "./recommendation.js";
import { memoryReviewStore } from "./review-store.js";
import {
  movieServiceClient,
  reviewServiceClient,
  serveMovieService,
  serveReviewService,
  serveUserService,
  userServiceClient,
} from "./services.js";

/** Options of {@link runReviewsChain}. The producer spreads the reviews over one simulated day. */
export interface ReviewsChainOptions {
  readonly reviews: number;
  readonly movies: number;
  readonly users: number;
  readonly partitions: number;
  readonly seed: number;
  /** Share of produced reviews that are malformed (the review service rejects them). */
  readonly malformedShare: number;
  /** Undecodable events injected into the `reviews` topic (they must reach the dead letter). */
  readonly corruptEvents: number;
  /** Copies of each change the simulated CDC log holds (as reading every replica's log). */
  readonly cdcReplicas: number;
  /** How long to wait for every stage to catch up after the producer is done. Default 120 s. */
  readonly catchUpTimeoutMs?: number;
}

export const defaultChainOptions: ReviewsChainOptions = {
  reviews: 5_000,
  movies: 300,
  users: 1_000,
  partitions: 4,
  seed: 7,
  malformedShare: 0.002,
  corruptEvents: 3,
  cdcReplicas: 2,
};

/** What happened in a run, for the summary and the tests. */
export interface ReviewsChainReport {
  readonly produced: number;
  readonly accepted: number;
  readonly rejected: number;
  readonly cdc: { readonly published: number; readonly duplicates: number };
  readonly enrichment: {
    readonly dedupeHits: number;
    readonly deadLetters: { readonly [code: string]: number };
  };
  readonly recommendationsWritten: number;
  readonly usersWithRecommendations: number;
  readonly statsWindows: number;
  readonly seconds: number;
  readonly latencyMs: { readonly p50: number; readonly p99: number };
  readonly recommendations: ReadonlyMap<number, UserRecommendations>;
  /** Recommendation updates per user: how many of their reviews the job has seen. */
  readonly updatesPerUser: ReadonlyMap<number, number>;
  /** The recommendation job's taste model at the end of the run. */
  readonly model: TasteModel;
  readonly movieStats: readonly MovieRatingStats[];
  readonly catalog: Catalog;
  readonly allCommitted: boolean;
}

/** A sink that Avro-encodes values and hands the bytes to another sink. */
function encoded<T>(inner: Sink<Buffer>, codec: Codec<T>): Sink<T> {
  return {
    name: `${inner.name}+avro`,
    maxInFlight: inner.maxInFlight,
    connect: () => inner.connect(),
    write: (batch: readonly OutgoingRecord<T>[]) =>
      inner.write(batch.map((r) => ({ ...r, value: codec.encode(r.value) }))),
    flush: () => inner.flush(),
    close: () => inner.close(),
  };
}

/** Decodes Avro record values; undecodable bytes become failures for the dead letter. */
function decode<T>(
  codec: Codec<T>,
): OperatorFunction<Record<Buffer>, Outcome<Buffer, T>> {
  return map((r): Outcome<Buffer, T> => {
    const d = codec.tryDecode(r.value);
    return d.ok
      ? { kind: "ok", record: derive(r, d.value) }
      : {
          kind: "failed",
          record: r,
          error: d.error,
          stage: "decode",
          attempts: 1,
        };
  });
}

/**
 * The reviews system end to end in one process, on the embedded log and stores: the
 * producer submits reviews to the review service over Avro RPC; the service stores them
 * (memory stand-in for Cassandra) and its writes feed a simulated CDC log; the CDC relay
 * publishes ReviewEvents (ids only) to `reviews`; the enrichment job dedupes, fetches the
 * latest review and its movie and user over Avro RPC and writes `reviews-enriched`; the
 * recommendation job updates taste profiles and per-movie stats. Every topic carries Avro.
 */
export async function runReviewsChain(
  o: ReviewsChainOptions,
  onProgress?: (stage: string, done: number) => void,
): Promise<ReviewsChainReport> {
  const catalog = generateCatalog({
    movies: o.movies,
    users: o.users,
    seed: o.seed,
  });
  const log = new MemoryLog();
  log.createTopic("reviews", { partitions: o.partitions });
  log.createTopic("reviews-enriched", { partitions: o.partitions });
  log.createTopic("reviews-dead-letters", { partitions: 1 });
  const eventCodec = createCodec<ReviewEventValue>(
    "dev.sluice.reviews.ReviewEvent",
  );
  const enrichedCodec = createCodec<EnrichedReview>(
    "dev.sluice.reviews.EnrichedReview",
  );

  // Services: review (memory store, writes captured by the simulated CDC log), movies, users.
  const feed = memoryChangeFeed({ replicas: o.cdcReplicas });
  const store = memoryReviewStore({
    onWrite: (r) =>
      feed.capture({
        keyspace: "reviews",
        table: "reviews",
        key: { id: r.reviewId },
        op: "upsert",
      }),
  });
  const servers = await Promise.all([
    serveReviewService(store),
    serveMovieService(memoryMovieRepo(catalog.movies)),
    serveUserService(memoryUserRepo(catalog.users)),
  ]);
  const [reviewServer, movieServer, userServer] = servers;
  const reviewsClient = await reviewServiceClient({ port: reviewServer.port });
  const producerClient = await reviewServiceClient({ port: reviewServer.port });
  const movies = await movieServiceClient({ port: movieServer.port });
  const users = await userServiceClient({ port: userServer.port });

  // CDC relay: change log → ReviewEvents on `reviews`, keyed by review id.
  const relay = await cdcRelay({
    feed,
    sink: encoded(
      memorySink<Buffer>(log, { topic: "reviews" }),
      createCodec<PublishedReviewEvent>("dev.sluice.reviews.ReviewEvent"),
    ),
    positions: memoryPositionStore(),
    topic: "reviews",
  });

  // Enrichment job.
  const dlqSink = memorySink<DeadLetter<unknown>>(log, {
    topic: "reviews-dead-letters",
  });
  const deadLetters = (
    dl$: Observable<Record<DeadLetter<unknown>>>,
  ): Observable<unknown> =>
    dl$.pipe(
      map((d) =>
        derive(d, {
          ...d.value,
          value: Buffer.isBuffer(d.value.value)
            ? d.value.value.toString("base64")
            : d.value.value,
        }),
      ),
      writeTo(dlqSink, { maxBatch: 50 }),
    );
  const enrichmentSource = memorySource<Buffer>(log, {
    group: "reviews-enrichment",
    topics: ["reviews"],
    maxInFlight: 2_000,
  });
  const enrichment = enrichReviews({
    reviews: reviewsClient,
    movies,
    users,
    dedupeStore: memoryDedupeStore(),
    deadLetters,
  });
  const decodeDlq = deadLetter<Buffer, ReviewEventValue>({
    policy: "DEAD_LETTER",
    sink: deadLetters,
  });
  const enrichedSink = encoded(
    memorySink<Buffer>(log, { topic: "reviews-enriched" }),
    enrichedCodec,
  );
  const enrichmentDone = lastValueFrom(
    enrichmentSource
      .records()
      .pipe(
        decode(eventCodec),
        decodeDlq,
        enrichment.operator,
        writeTo(enrichedSink, { maxBatch: 200, maxWaitMs: 5 }),
      ),
    { defaultValue: undefined },
  );

  // Recommendation job: the "tables" it writes are maps here (Cassandra and PostgreSQL on the stack).
  const seen = new ChainObserver();
  const model = new TasteModel();
  const recommendationSource = memorySource<Buffer>(log, {
    group: "reviews-recommendation",
    topics: ["reviews-enriched"],
    maxInFlight: 20_000,
    maxInFlightPerPartition: 5_000,
  });
  const recommendDlq = deadLetter<Buffer, EnrichedReview>({
    policy: "DEAD_LETTER",
    sink: deadLetters,
  });
  const recommendationDone = lastValueFrom(
    recommendationSource.records().pipe(
      decode(enrichedCodec),
      recommendDlq,
      recommend({
        mirror: model,
        catalog: catalog.movies,
        topK: 5,
      }),
      // The observer is this job's sink: an output is done once it has seen it.
      ackAfter((r: Record<RecommendationOutput>) => seen.observe(r.value)),
    ),
    { defaultValue: undefined },
  );

  // Producer: submit reviews to the review service over RPC, a few at a time.
  const started = Date.now();
  const { produced, accepted, rejected } = await submitReviews(
    producerClient,
    {
      catalog,
      reviews: o.reviews,
      seed: o.seed,
      malformedShare: o.malformedShare,
    },
    seen,
    onProgress,
  );
  // Corrupt events straight onto the topic: the enrichment job must dead-letter them and go on.
  for (let i = 0; i < o.corruptEvents; i++)
    log.append("reviews", {
      key: `corrupt-${i}`,
      value: corruptEvent(i),
    });

  // Wait until every stage has caught up: relay published every write, both groups committed to the end.
  const caughtUp = (group: string, topic: string): boolean => {
    for (let p = 0; p < o.partitions; p++)
      if (log.committed(group, topic, p) !== log.endOffset(topic, p))
        return false;
    return true;
  };
  // A job that fails stops the wait at once with its error, instead of a time-out.
  let failure: unknown;
  for (const job of [enrichmentDone, recommendationDone])
    job.catch((e: unknown) => (failure ??= e));
  const deadline = Date.now() + (o.catchUpTimeoutMs ?? 120_000);
  while (!(
    relay.stats.published + relay.stats.stale >= accepted &&
    caughtUp("reviews-enrichment", "reviews") &&
    caughtUp("reviews-recommendation", "reviews-enriched")
  )) {
    if (failure !== undefined)
      throw failure instanceof Error
        ? failure
        : new Error("a reviews job failed", { cause: failure });
    if (Date.now() > deadline)
      throw new Error(
        `reviews chain did not catch up in time: relay published ${relay.stats.published} (stale ${relay.stats.stale}) of ${accepted}; enrichment caught up ${caughtUp("reviews-enrichment", "reviews")}, recommendation caught up ${caughtUp("reviews-recommendation", "reviews-enriched")} (in flight ${recommendationSource.inFlight}, stats windows ${seen.movieStats.length}, updates ${seen.recommendationsWritten})`,
      );
    onProgress?.("processed", seen.recommendationsWritten);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await enrichmentSource.commit();
    await recommendationSource.commit();
  }
  const seconds = (Date.now() - started) / 1000;
  onProgress?.("processed", seen.recommendationsWritten);

  await relay.close();
  await enrichmentSource.close();
  await recommendationSource.close();
  await Promise.all([enrichmentDone, recommendationDone]);
  await Promise.all([
    reviewsClient.close(),
    producerClient.close(),
    movies.close(),
    users.close(),
    feed.close(),
  ]);
  await Promise.all(servers.map((s) => s.close()));

  const byCode: { [code: string]: number } = {};
  for (const c of [
    decodeDlq.counters,
    recommendDlq.counters,
    ...enrichment.counters.badRecords,
  ])
    for (const [code, n] of c.byCode) byCode[code] = (byCode[code] ?? 0) + n;
  return {
    produced,
    accepted,
    rejected,
    cdc: {
      published: relay.stats.published,
      duplicates: relay.stats.duplicates,
    },
    enrichment: {
      dedupeHits: enrichment.counters.dedupe.hits,
      deadLetters: byCode,
    },
    recommendationsWritten: seen.recommendationsWritten,
    usersWithRecommendations: seen.recommendations.size,
    statsWindows: seen.movieStats.length,
    seconds,
    latencyMs: seen.latencyMs(),
    recommendations: seen.recommendations,
    updatesPerUser: seen.updatesPerUser,
    model,
    movieStats: seen.movieStats,
    catalog,
    allCommitted:
      caughtUp("reviews-enrichment", "reviews") &&
      caughtUp("reviews-recommendation", "reviews-enriched"),
  };
}
