import { randomUUID } from "node:crypto";
import type { Subscription } from "rxjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  closeReviewsStack,
  openReviewsStack,
  startReviewsServices,
} from "./testing/stack-fixture.js";
import {
  committedToEnd,
  setUpStack,
  sluiceProcesses,
  type SluiceProcess,
} from "./testing/sluice-process.js";
import { createCodec } from "../../avro/index.js";
import { type CassandraClient } from "../../connectors/cassandra/index.js";
import {
  kafkaSink,
  kafkaSource,
  type KafkaAdmin,
} from "../../connectors/kafka/index.js";
import { type PostgresPool } from "../../connectors/postgres/index.js";
import { requireServices, type Endpoints } from "../../stack/index.js";
import { uniqueName, waitFor } from "../../stack/smoke/wait.js";
import type { EnrichedReview } from "./enrichment.js";
import { FIXTURE_MOVIES, FIXTURE_REVIEWS, FIXTURE_USERS } from "./fixtures.js";
import { reviewServiceClient } from "./services.js";
import { stackRunNames } from "./stack-chain.js";
import {
  decodeEnrichedReview,
  localWiring,
  startRecommendation,
} from "./stack-wiring.js";
import type { Review } from "./types.js";

// A real process kill (issue 5): `sluice run reviews-enrichment` is SIGKILLed while it works
// through the reviews topic and started again. At-least-once: every review still reaches
// reviews-enriched (a redelivered one may appear twice), and the recommendation job's
// dedupe keeps the analytics counts exact.

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

const REVIEWS = 800;
const runId = uniqueName("kl").replace(/[^a-z0-9_]/g, "");
const names = stackRunNames(runId);
const group = `enrich-${runId}`;
const w = localWiring();
const groups: string[] = [group];
const subscriptions: Subscription[] = [];
const processes = sluiceProcesses();
let env: Endpoints;
let admin: KafkaAdmin;
let cassandra: CassandraClient;
let postgres: PostgresPool;
let ports: { review: number; movie: number; user: number };
let reviews: Review[];

const at = (port: number) => ({ host: "127.0.0.1", port });

beforeAll(async () => {
  env = await requireServices(["kafka", "cassandra", "postgres", "memcached"]);
  setUpStack();
  ({ admin, cassandra, postgres } = await openReviewsStack(env, names));
  ports = await startReviewsServices(w, { cassandra, postgres }, names);
  // REVIEWS distinct reviews of the fixture users and movies, all in one stats window.
  const template = FIXTURE_REVIEWS[0]!;
  reviews = Array.from({ length: REVIEWS }, (_, i) => {
    const t = new Date(template.createdAt.getTime() + i);
    return {
      ...template,
      reviewId: randomUUID(),
      userId: (i % FIXTURE_USERS.length) + 1,
      movieId: (i % FIXTURE_MOVIES.length) + 1,
      rating: ((i % 10) + 1) / 2,
      text: null,
      createdAt: t,
      updatedAt: t,
    };
  });
  const client = await reviewServiceClient(at(ports.review));
  try {
    for (let i = 0; i < reviews.length; i += 100)
      await Promise.all(reviews.slice(i, i + 100).map((r) => client.put(r)));
  } finally {
    await client.close();
  }
  const sink = kafkaSink<Buffer>({
    brokers: env.kafkaBrokers,
    topic: names.topics.reviews,
    encode: (b) => b,
  });
  // Timestamps of now: older ones fall out of the topics' retention while the test runs.
  const now = Date.now();
  try {
    await sink.write(
      reviews.map((r, i) => ({
        key: r.reviewId,
        value: eventCodec.encode({
          metadata: {
            eventId: randomUUID(),
            occurredAt: now + i,
            producer: "kill-test",
            correlationId: null,
          },
          reviewId: r.reviewId,
        }),
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
  for (const s of subscriptions) s.unsubscribe();
  await w.close();
  await closeReviewsStack({ admin, cassandra, postgres }, names, groups);
});

/** `sluice run reviews-enrichment` on this run's topics, group and key prefix. */
function startEnrichmentProcess(): SluiceProcess {
  const endpoint = (port: number) =>
    JSON.stringify({ host: "127.0.0.1", port });
  return processes.run("reviews-enrichment", {
    SLUICE_KAFKA_BROKERS: env.kafkaBrokers.join(","),
    SLUICE_MEMCACHED_SERVERS: env.memcachedServers.join(","),
    SLUICE_HTTP_PORT: "0",
    SLUICE_JOB__GROUP: group,
    SLUICE_JOB__TOPIC: names.topics.reviews,
    SLUICE_JOB__ENRICHED_TOPIC: names.topics.enriched,
    SLUICE_JOB__DEAD_LETTER_TOPIC: names.topics.deadLetters,
    SLUICE_JOB__PARTITIONS: "2",
    SLUICE_JOB__REVIEW_SERVICE: endpoint(ports.review),
    SLUICE_JOB__MOVIE_SERVICE: endpoint(ports.movie),
    SLUICE_JOB__USER_SERVICE: endpoint(ports.user),
    SLUICE_JOB__DEDUPE_KEY_PREFIX: `enrich-${runId}:`,
    // The dead process's unconfirmed claims hold its in-flight ids this long.
    SLUICE_JOB__DEDUPE_CLAIM_TTL_MS: "3000",
    // Few records in flight, so the kill lands while most of the topic is still unread.
    SLUICE_JOB__MAX_IN_FLIGHT: "10",
  });
}

/** Messages written to `topic` so far. */
async function written(topic: string): Promise<number> {
  const offsets = await admin.topicOffsets(topic);
  return offsets.reduce((n, p) => n + (p.high - p.low), 0);
}

describe("a SIGKILLed enrichment process", () => {
  it("loses no review after a restart, and the analytics count each review once", async () => {
    const first = startEnrichmentProcess();
    const atKill = await waitFor(
      "the first process to enrich some reviews",
      async () => {
        first.assertRunning();
        const n = await written(names.topics.enriched);
        return n >= 100 ? n : undefined;
      },
      40_000,
      50,
    );
    await first.stop("SIGKILL");
    expect(atKill).toBeLessThan(REVIEWS);

    const second = startEnrichmentProcess();
    let lastLag: unknown;
    await waitFor(
      "the restarted process to commit the end of reviews",
      async () => {
        second.assertRunning();
        const lag = await admin.lag(group, names.topics.reviews);
        lastLag = lag;
        return committedToEnd(lag) ? true : undefined;
      },
      40_000,
      200,
    ).catch(async (e: unknown) => {
      throw new Error(
        `${String(e)}; lag ${JSON.stringify(lastLag)}; enriched ${await written(names.topics.enriched)}; log:\n${second.output().slice(-3000)}`,
      );
    });

    // No loss: every review is in reviews-enriched (some perhaps twice).
    const readGroup = `read-${runId}`;
    groups.push(readGroup);
    const reader = w.addSource(
      kafkaSource<EnrichedReview>({
        brokers: env.kafkaBrokers,
        group: readGroup,
        topics: [names.topics.enriched],
        decode: decodeEnrichedReview,
        onDecodeError: "fail",
      }),
    );
    const seen = new Set<string>();
    let total = 0;
    subscriptions.push(
      reader.records().subscribe((r) => {
        seen.add(r.value.review.reviewId);
        total += 1;
        r.ack.ack();
      }),
    );
    const end = await written(names.topics.enriched);
    await waitFor(
      "every enriched record read back",
      () => (total >= end ? true : undefined),
      20_000,
    );
    expect(seen.size).toBe(REVIEWS);
    expect(reviews.every((r) => seen.has(r.reviewId))).toBe(true);

    // Not doubled: the recommendation job over all of it counts each review once.
    const recommendGroup = `recommend-${runId}`;
    groups.push(recommendGroup);
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
      dedupeKeyPrefix: `recommend-${runId}:`,
      dedupeTtlMs: 3_600_000,
      topK: 3,
    });
    await waitFor(
      "the recommendation job to commit the end of reviews-enriched",
      async () => {
        const lag = await admin.lag(recommendGroup, names.topics.enriched);
        return committedToEnd(lag) ? true : undefined;
      },
      20_000,
      200,
    ).catch(async (e: unknown) => {
      const { rows } = await postgres.pool.query(
        `SELECT sum(reviews)::int AS n FROM ${names.analyticsSchema}.movie_rating_stats`,
      );
      throw new Error(
        `${String(e)}; lag ${JSON.stringify(await admin.lag(recommendGroup, names.topics.enriched))}; stats ${JSON.stringify(rows)}`,
      );
    });
    const { rows } = await postgres.pool.query(
      `SELECT sum(reviews)::int AS n FROM ${names.analyticsSchema}.movie_rating_stats`,
    );
    expect((rows[0] as { n: number }).n).toBe(REVIEWS);
    await second.stop("SIGTERM");
  }, 60_000);
});
