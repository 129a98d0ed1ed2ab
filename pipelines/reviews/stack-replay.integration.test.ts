import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  closeReviewsStack,
  openReviewsStack,
  startReviewsServices,
} from "./testing/stack-fixture.js";
import { createCodec } from "../../avro/index.js";
import { type CassandraClient } from "../../connectors/cassandra/index.js";
import { kafkaSink, type KafkaAdmin } from "../../connectors/kafka/index.js";
import { type PostgresPool } from "../../connectors/postgres/index.js";
import { requireServices, type Endpoints } from "../../stack/index.js";
import { uniqueName, waitFor } from "../../stack/smoke/wait.js";
import { committedToEnd } from "./testing/sluice-process.js";
import { FIXTURE_REVIEWS } from "./fixtures.js";
import { reviewServiceClient } from "./services.js";
import { stackRunNames } from "./stack-chain.js";
import {
  localWiring,
  startEnrichment,
  startRecommendation,
} from "./stack-wiring.js";

// Duplicates and a replay from offset 0 (issue 5): the sinks must be idempotent, so neither
// a duplicate event nor a second pass over the whole `reviews` topic (new consumer groups,
// an empty processed-id cache, fresh keyed state) may change any row: stats or per-user
// recommendations, in PostgreSQL and in Cassandra.

interface PublishedEvent {
  readonly metadata: {
    readonly eventId: string;
    readonly occurredAt: number;
    readonly producer: string;
    readonly correlationId: string | null;
  };
  readonly reviewId: string;
}
const eventCodec = createCodec<PublishedEvent>(
  "dev.sluice.reviews.ReviewEvent",
);

const runId = uniqueName("rp").replace(/[^a-z0-9_]/g, "");
const names = stackRunNames(runId);
const base = localWiring();
let env: Endpoints;
let admin: KafkaAdmin;
let cassandra: CassandraClient;
let postgres: PostgresPool;
let ports: { review: number; movie: number; user: number };
const groups: string[] = [];

beforeAll(async () => {
  env = await requireServices(["kafka", "cassandra", "postgres", "memcached"]);
  ({ admin, cassandra, postgres } = await openReviewsStack(env, names));
  ports = await startReviewsServices(base, { cassandra, postgres }, names);
  const client = await reviewServiceClient(at(ports.review));
  try {
    for (const r of FIXTURE_REVIEWS) await client.put(r);
  } finally {
    await client.close();
  }
});

afterAll(async () => {
  await base.close();
  await closeReviewsStack({ admin, cassandra, postgres }, names, groups);
});

const at = (port: number) => ({ host: "127.0.0.1", port });

/** A ReviewEvent like the CDC relay publishes for review `reviewId`, with a new event id. */
const eventOf = (reviewId: string, n: number): PublishedEvent => ({
  metadata: {
    eventId: randomUUID(),
    occurredAt: Date.now() + n,
    producer: "replay-test",
    correlationId: null,
  },
  reviewId,
});

/**
 * Writes ReviewEvents to `reviews`, keyed by review id like the relay. Timestamps are now:
 * older ones would fall out of the topic's retention while the test runs.
 */
async function publish(events: readonly PublishedEvent[]): Promise<void> {
  const sink = kafkaSink<Buffer>({
    brokers: env.kafkaBrokers,
    topic: names.topics.reviews,
    encode: (b) => b,
  });
  try {
    await sink.write(
      events.map((e) => ({
        key: e.reviewId,
        value: eventCodec.encode(e),
        timestamp: e.metadata.occurredAt,
        headers: {},
      })),
    );
    await sink.flush();
  } finally {
    await sink.close();
  }
}

/** Starts both jobs with their own consumer groups and processed-id prefixes. */
async function startJobs(pass: string) {
  const w = localWiring();
  const enrichGroup = `enrich-${runId}-${pass}`;
  const recommendGroup = `recommend-${runId}-${pass}`;
  groups.push(enrichGroup, recommendGroup);
  await startEnrichment(w, {
    brokers: env.kafkaBrokers,
    group: enrichGroup,
    topic: names.topics.reviews,
    enrichedTopic: names.topics.enriched,
    deadLetterTopic: names.topics.deadLetters,
    reviewService: at(ports.review),
    movieService: at(ports.movie),
    userService: at(ports.user),
    memcachedServers: env.memcachedServers,
    dedupeKeyPrefix: `enrich-${runId}-${pass}:`,
    dedupeTtlMs: 3_600_000,
  });
  await startRecommendation(w, {
    brokers: env.kafkaBrokers,
    group: recommendGroup,
    enrichedTopic: names.topics.enriched,
    deadLetterTopic: names.topics.deadLetters,
    cassandra,
    keyspace: names.keyspace,
    postgres,
    analyticsSchema: names.analyticsSchema,
    catalogSchema: names.catalogSchema,
    memcachedServers: env.memcachedServers,
    dedupeKeyPrefix: `recommend-${runId}-${pass}:`,
    dedupeTtlMs: 3_600_000,
    topK: 3,
  });
  return { w, enrichGroup, recommendGroup };
}

/** Resolves once `group` has committed everything on `topic` (its writes are then acked). */
async function caughtUp(group: string, topic: string): Promise<void> {
  await waitFor(
    `${group} to commit the end of ${topic}`,
    async () => {
      const lag = await admin.lag(group, topic);
      return committedToEnd(lag) ? true : undefined;
    },
    30_000,
    200,
  );
}

async function drained(jobs: {
  enrichGroup: string;
  recommendGroup: string;
}): Promise<void> {
  await caughtUp(jobs.enrichGroup, names.topics.reviews);
  await caughtUp(jobs.recommendGroup, names.topics.enriched);
}

/** Every analytics row, in a fixed order, as plain JSON. */
async function snapshot() {
  const stats = await postgres.pool.query(
    `SELECT movie_id::int, window_start, window_end, title, reviews, mean_rating, histogram
       FROM ${names.analyticsSchema}.movie_rating_stats ORDER BY movie_id, window_start`,
  );
  const pgRecs = await postgres.pool.query(
    `SELECT user_id::int, display_name, movie_ids::int[], titles, scores, reasons, model_version,
            generated_at, triggered_by
       FROM ${names.analyticsSchema}.user_recommendations ORDER BY user_id`,
  );
  const cass = await cassandra.client.execute(
    `SELECT user_id, display_name, movie_ids, titles, scores, reasons, model_version,
            generated_at, triggered_by FROM ${names.keyspace}.user_recommendations`,
  );
  const cassRecs = cass.rows
    .map((r) => ({
      user_id: Number(r["user_id"]),
      display_name: r["display_name"] as string,
      movie_ids: (r["movie_ids"] as unknown[]).map(Number),
      titles: r["titles"] as string[],
      scores: r["scores"] as number[],
      reasons: r["reasons"] as string[],
      model_version: r["model_version"] as string,
      generated_at: r["generated_at"] as Date,
      triggered_by: r["triggered_by"] as string,
    }))
    .sort((a, b) => a.user_id - b.user_id);
  return JSON.parse(
    JSON.stringify({ stats: stats.rows, pgRecs: pgRecs.rows, cassRecs }),
  ) as {
    stats: { reviews: number }[];
    pgRecs: { user_id: number; titles: string[] }[];
    cassRecs: { user_id: number; titles: string[] }[];
  };
}

describe("duplicates and a replay of reviews on the real stack", () => {
  it("change no row in PostgreSQL or Cassandra, and a replay from offset 0 under new groups rewrites every row as it was", async () => {
    const events = FIXTURE_REVIEWS.map((r, i) => eventOf(r.reviewId, i));
    // First pass: every event once, and four of them twice in a row (same event id).
    await publish([...events, ...events.slice(0, 4)]);
    const first = await startJobs("first");
    let before;
    try {
      await drained(first);
      before = await snapshot();
      expect(before.stats.reduce((n, s) => n + s.reviews, 0)).toBe(
        FIXTURE_REVIEWS.length,
      );
      expect(before.pgRecs.map((r) => r.user_id)).toEqual([1, 2, 3]);
      expect(before.cassRecs).toEqual(before.pgRecs);
      expect(before.pgRecs[0]?.titles[0]).toBe("Night Train Heist");
      expect(before.pgRecs[2]?.titles[0]).toBe("The Last Starship");

      // More duplicates while the first pass runs: already processed, nothing may change.
      await publish(events.slice(4, 9));
      await drained(first);
      expect(await snapshot()).toEqual(before);
    } finally {
      await first.w.close();
    }

    // Replay: both jobs from offset 0 under new groups, with an empty processed-id cache.
    const replay = await startJobs("replay");
    try {
      await drained(replay);
      const after = await snapshot();
      // Every window rewritten by the replay holds the same count, mean and histogram.
      expect(after.stats).toEqual(before.stats);
      // A user's row is a pure function of their reviews: the replay, whose partitions
      // interleave as they happen to, writes every column of every row exactly as before.
      expect(after.pgRecs).toEqual(before.pgRecs);
      expect(after.cassRecs).toEqual(before.cassRecs);
      expect(after.cassRecs).toEqual(after.pgRecs);
    } finally {
      await replay.w.close();
    }
  }, 60_000);
});
