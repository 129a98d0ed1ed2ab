import { randomUUID } from "node:crypto";
import { lastValueFrom, of, tap, toArray } from "rxjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  closeReviewsStack,
  openReviewsStack,
} from "./testing/stack-fixture.js";
import {
  committedToEnd,
  setUpStack,
  sluiceProcesses,
  type SluiceProcess,
} from "./testing/sluice-process.js";
import { createCodec } from "../../avro/index.js";
import { type CassandraClient } from "../../connectors/cassandra/index.js";
import { kafkaSink, type KafkaAdmin } from "../../connectors/kafka/index.js";
import { type PostgresPool } from "../../connectors/postgres/index.js";
import { record } from "../../operators/record.js";
import { requireServices, type Endpoints } from "../../stack/index.js";
import { uniqueName, waitFor } from "../../stack/smoke/wait.js";
import { generateCatalog } from "./catalog.js";
import type { EnrichedReview } from "./enrichment.js";
import {
  allMovies,
  postgresMovieRepo,
  postgresUserRepo,
} from "./postgres-catalog.js";
import { generateReviews } from "./producer.js";
import {
  combineStats,
  recommend,
  type MovieRatingStats,
  type RecommendationOutput,
  type UserRecommendations,
} from "./recommendation.js";
import { stackRunNames } from "./stack-chain.js";

// A real process kill (issue 5): `sluice run reviews-recommendation`, checkpointing its keyed
// state with its offsets to PostgreSQL, is SIGKILLed while it works through
// reviews-enriched, and started again. It must resume from its last checkpoint: no review
// lost, none counted twice in movie_rating_stats, and every row exactly as an uninterrupted
// run writes it.

const enrichedCodec = createCodec<EnrichedReview>(
  "dev.sluice.reviews.EnrichedReview",
);

const REVIEWS = 1_200;
const TOP_K = 5;
const runId = uniqueName("kr").replace(/[^a-z0-9_]/g, "");
const names = stackRunNames(runId);
const group = `recommend-${runId}`;
const checkpointSchema = `checkpoints_${runId}`;
const processes = sluiceProcesses();
let env: Endpoints;
let admin: KafkaAdmin;
let cassandra: CassandraClient;
let postgres: PostgresPool;
let events: EnrichedReview[];

beforeAll(async () => {
  env = await requireServices(["kafka", "cassandra", "postgres", "memcached"]);
  setUpStack();
  ({ admin, cassandra, postgres } = await openReviewsStack(env, names));
  // A generated catalogue (its movies are the candidates) and generated reviews with
  // updates, enriched as the enrichment job would write them.
  const catalog = generateCatalog({ movies: 40, users: 30, seed: 21 });
  await postgresMovieRepo(postgres, names.catalogSchema).upsertMany(
    catalog.movies,
  );
  await postgresUserRepo(postgres, names.catalogSchema).upsertMany(
    catalog.users,
  );
  const movies = new Map(catalog.movies.map((m) => [m.movieId, m]));
  const users = new Map(catalog.users.map((u) => [u.userId, u]));
  events = [];
  for (const p of generateReviews({ catalog, seed: 21 })) {
    if (events.length >= REVIEWS) break;
    if (p.kind === "malformed") continue;
    events.push({
      metadata: {
        eventId: randomUUID(),
        occurredAt: p.review.updatedAt,
        producer: "kill-test",
        correlationId: null,
      },
      review: p.review,
      movie: movies.get(p.review.movieId)!,
      user: users.get(p.review.userId)!,
      enrichedAt: p.review.updatedAt,
    });
  }
  // Every event once, and every tenth twice (same event id: at-least-once upstream).
  const published = [...events, ...events.filter((_, i) => i % 10 === 0)];
  const sink = kafkaSink<Buffer>({
    brokers: env.kafkaBrokers,
    topic: names.topics.enriched,
    encode: (b) => b,
  });
  // Timestamps of now: older ones fall out of the topic's retention while the test runs.
  const now = Date.now();
  try {
    await sink.write(
      published.map((e, i) => ({
        key: String(e.user.userId),
        value: enrichedCodec.encode(e),
        timestamp: now + i,
        headers: {},
      })),
    );
    await sink.flush();
  } finally {
    await sink.close();
  }
}, 180_000);

afterAll(async () => {
  processes.killAll();
  await postgres?.pool
    .query(`DROP SCHEMA IF EXISTS ${checkpointSchema} CASCADE`)
    .catch(() => undefined);
  await closeReviewsStack({ admin, cassandra, postgres }, names, [group]);
});

/** `sluice run reviews-recommendation` on this run's topic, group, schemas and key prefix. */
function startRecommendationProcess(): SluiceProcess {
  return processes.run("reviews-recommendation", {
    SLUICE_KAFKA_BROKERS: env.kafkaBrokers.join(","),
    SLUICE_MEMCACHED_SERVERS: env.memcachedServers.join(","),
    CASSANDRA_CONTACT_POINTS: env.cassandraContactPoints.join(","),
    CASSANDRA_LOCAL_DC: env.cassandraLocalDc,
    DATABASE_URL: env.databaseUrl,
    SLUICE_HTTP_PORT: "0",
    // Keyed state and offsets, checkpointed together, often, in this run's schema.
    SLUICE_CHECKPOINT_STORE: "postgres",
    SLUICE_POSTGRES_SCHEMA: checkpointSchema,
    SLUICE_CHECKPOINT_INTERVAL_MS: "300",
    SLUICE_JOB__GROUP: group,
    SLUICE_JOB__ENRICHED_TOPIC: names.topics.enriched,
    SLUICE_JOB__DEAD_LETTER_TOPIC: names.topics.deadLetters,
    SLUICE_JOB__PARTITIONS: "2",
    SLUICE_JOB__KEYSPACE: names.keyspace,
    SLUICE_JOB__ANALYTICS_SCHEMA: names.analyticsSchema,
    SLUICE_JOB__CATALOG_SCHEMA: names.catalogSchema,
    SLUICE_JOB__DEDUPE_KEY_PREFIX: `recommend-${runId}:`,
    // The dead process's unconfirmed claims hold its ids this long.
    SLUICE_JOB__DEDUPE_CLAIM_TTL_MS: "2000",
    SLUICE_JOB__TOP_K: String(TOP_K),
    // Few records in flight, so the kill lands while most of the topic is still unread.
    SLUICE_JOB__MAX_IN_FLIGHT: "10",
  });
}

async function counted(): Promise<number> {
  const { rows } = await postgres.pool.query(
    `SELECT coalesce(sum(reviews), 0)::int AS n FROM ${names.analyticsSchema}.movie_rating_stats`,
  );
  return (rows[0] as { n: number }).n;
}

async function checkpoints(): Promise<number> {
  const { rows } = await postgres.pool.query(
    `SELECT count(*)::int AS n FROM ${checkpointSchema}.checkpoints`,
  );
  return (rows[0] as { n: number }).n;
}

/** What an uninterrupted run writes: the same operator over every event once, in order. */
async function reference(): Promise<{
  users: Map<number, UserRecommendations>;
  stats: MovieRatingStats[];
}> {
  const catalog = await allMovies(postgres, names.catalogSchema);
  const out = await lastValueFrom(
    of(
      ...events.map((e, offset) =>
        record({
          key: String(e.user.userId),
          value: e,
          timestamp: e.review.updatedAt.getTime(),
          origin: {
            topic: names.topics.enriched,
            // The partition the producer's key hashing chose is not known here; the
            // reference sums the parts, so one partition is as good as two.
            partition: 0,
            offset,
          },
        }),
      ),
    ).pipe(
      recommend({ catalog, topK: TOP_K }),
      tap((r) => r.ack.ack()),
      toArray(),
    ),
  );
  const users = new Map<number, UserRecommendations>();
  const parts = new Map<string, RecommendationOutput>();
  for (const { value: v } of out)
    if (v.kind === "recommendations") users.set(v.userId, v);
    else parts.set(`${v.movieId}/${v.windowStart}`, v);
  return {
    users,
    stats: combineStats(
      [...parts.values()].filter(
        (v): v is MovieRatingStats => v.kind === "movie-stats",
      ),
    ),
  };
}

describe("a SIGKILLed recommendation process", () => {
  it("resumes from its checkpoint: no review lost or counted twice, rows as an uninterrupted run writes them", async () => {
    const distinct = new Set(
      events.map((e) => `${e.review.reviewId}@${e.review.version}`),
    ).size;
    const first = startRecommendationProcess();
    const atKill = await waitFor(
      "the first process to checkpoint and count some reviews",
      async () => {
        first.assertRunning();
        const n = await counted();
        const saved = await checkpoints().catch(() => 0);
        return n >= 150 && saved > 0 ? n : undefined;
      },
      60_000,
      50,
    );
    await first.stop("SIGKILL");
    expect(atKill).toBeLessThan(distinct);

    const second = startRecommendationProcess();
    let last: unknown;
    await waitFor(
      "the restarted process to commit the end of reviews-enriched and count every review",
      async () => {
        second.assertRunning();
        const lag = await admin.lag(group, names.topics.enriched);
        const n = await counted();
        last = { lag, counted: n };
        return committedToEnd(lag) && n >= distinct ? true : undefined;
      },
      60_000,
      200,
    ).catch((e: unknown) => {
      throw new Error(
        `${String(e)}; ${JSON.stringify(last)}; log:\n${second.output().slice(-3000)}`,
      );
    });
    await second.stop("SIGTERM");
    // The restart resumed from checkpoints (state and offsets), not from scratch.
    const restored = second
      .output()
      .split("\n")
      .filter((l) => l.includes('"restored partitions"'))
      .map((l) => (JSON.parse(l) as { fromCheckpoint: number }).fromCheckpoint);
    expect(restored.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    console.log(
      `recommendation kill test: ${distinct} distinct review versions, ${atKill} counted at the kill`,
    );

    const expected = await reference();
    // Not doubled, not lost: every distinct review version counted once, window by window.
    const { rows: stats } = await postgres.pool.query(
      `SELECT movie_id::int, window_start, reviews, mean_rating, histogram
         FROM ${names.analyticsSchema}.movie_rating_stats ORDER BY movie_id, window_start`,
    );
    expect(await counted()).toBe(distinct);
    expect(
      (
        stats as {
          movie_id: number;
          window_start: Date;
          reviews: number;
          histogram: number[];
        }[]
      ).map((s) => [
        s.movie_id,
        s.window_start.getTime(),
        s.reviews,
        s.histogram,
      ]),
    ).toEqual(
      expected.stats.map((s) => [
        s.movieId,
        s.windowStart,
        s.reviews,
        s.histogram,
      ]),
    );

    // Every user's row, in both stores, exactly as the uninterrupted run computes it.
    const want = [...expected.users.values()]
      .sort((a, b) => a.userId - b.userId)
      .map((u) => ({
        user_id: u.userId,
        display_name: u.displayName,
        movie_ids: u.recommendations.map((r) => r.movieId),
        titles: u.recommendations.map((r) => r.title),
        scores: u.recommendations.map((r) => r.score),
        reasons: u.recommendations.map((r) => r.reason),
        generated_at: u.generatedAt,
        triggered_by: u.triggeredBy,
      }));
    const { rows: pg } = await postgres.pool.query(
      `SELECT user_id::int, display_name, movie_ids::int[], titles, scores, reasons,
              generated_at, triggered_by
         FROM ${names.analyticsSchema}.user_recommendations ORDER BY user_id`,
    );
    expect(
      (pg as { generated_at: Date }[]).map((r) => ({
        ...r,
        generated_at: r.generated_at.getTime(),
      })),
    ).toEqual(want);
    const cass = await cassandra.client.execute(
      `SELECT user_id, display_name, movie_ids, titles, scores, reasons, generated_at,
              triggered_by FROM ${names.keyspace}.user_recommendations`,
    );
    expect(
      cass.rows
        .map((r) => ({
          user_id: Number(r["user_id"]),
          display_name: r["display_name"] as string,
          // Cassandra reads an empty list back as null (a user who rated every movie).
          movie_ids: ((r["movie_ids"] as unknown[] | null) ?? []).map(Number),
          titles: (r["titles"] as string[] | null) ?? [],
          scores: (r["scores"] as number[] | null) ?? [],
          reasons: (r["reasons"] as string[] | null) ?? [],
          generated_at: (r["generated_at"] as Date).getTime(),
          triggered_by: r["triggered_by"] as string,
        }))
        .sort((a, b) => a.user_id - b.user_id),
    ).toEqual(want);
  }, 150_000);
});
