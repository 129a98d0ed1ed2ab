import { randomUUID } from "node:crypto";
import type { Subscription } from "rxjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  closeReviewsStack,
  openReviewsStack,
  startReviewsServices,
} from "./testing/stack-fixture.js";
import { createCodec } from "../../avro/index.js";
import { type CassandraClient } from "../../connectors/cassandra/index.js";
import {
  DEAD_LETTER_HEADERS,
  kafkaSink,
  kafkaSource,
  type KafkaAdmin,
} from "../../connectors/kafka/index.js";
import { type PostgresPool } from "../../connectors/postgres/index.js";
import type { Record } from "../../operators/record.js";
import { requireServices, type Endpoints } from "../../stack/index.js";
import { uniqueName, waitFor } from "../../stack/smoke/wait.js";
import { FIXTURE_REVIEWS } from "./fixtures.js";
import { reviewServiceClient } from "./services.js";
import { stackRunNames } from "./stack-chain.js";
import {
  decodeEnrichedReview,
  localWiring,
  startEnrichment,
  type RunningJob,
} from "./stack-wiring.js";

// Bad records on the real stack (issue 5): undecodable bytes and an event whose review the
// review service does not know end in the dead-letter topic with their reason and origin
// in the `sluice.*` headers, and the enrichment job goes on with the next valid review.

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
const eventOf = (reviewId: string): PublishedEvent => ({
  metadata: {
    eventId: randomUUID(),
    occurredAt: Date.now(),
    producer: "dead-letter-test",
    correlationId: null,
  },
  reviewId,
});

const runId = uniqueName("dl").replace(/[^a-z0-9_]/g, "");
const names = stackRunNames(runId);
const w = localWiring();
const groups: string[] = [];
const subscriptions: Subscription[] = [];
let env: Endpoints;
let admin: KafkaAdmin;
let cassandra: CassandraClient;
let postgres: PostgresPool;
let reviewPort: number;
let job: RunningJob<unknown>;

const at = (port: number) => ({ host: "127.0.0.1", port });

beforeAll(async () => {
  env = await requireServices(["kafka", "cassandra", "postgres", "memcached"]);
  ({ admin, cassandra, postgres } = await openReviewsStack(env, names));
  const ports = await startReviewsServices(w, { cassandra, postgres }, names);
  reviewPort = ports.review;
  const group = `enrich-${runId}`;
  groups.push(group);
  job = await startEnrichment(w, {
    brokers: env.kafkaBrokers,
    group,
    topic: names.topics.reviews,
    enrichedTopic: names.topics.enriched,
    deadLetterTopic: names.topics.deadLetters,
    reviewService: at(reviewPort),
    movieService: at(ports.movie),
    userService: at(ports.user),
    memcachedServers: env.memcachedServers,
    dedupeKeyPrefix: `enrich-${runId}:`,
    dedupeTtlMs: 3_600_000,
  });
});

afterAll(async () => {
  for (const s of subscriptions) s.unsubscribe();
  await w.close();
  await closeReviewsStack({ admin, cassandra, postgres }, names, groups);
});

/** Everything written to `topic` from its start, read by a group of its own. */
function readAll<T>(topic: string, decode: (b: Buffer) => T): Record<T>[] {
  const group = `read-${runId}-${topic}`;
  groups.push(group);
  const source = w.addSource(
    kafkaSource<T>({
      brokers: env.kafkaBrokers,
      group,
      topics: [topic],
      decode,
      onDecodeError: "fail",
    }),
  );
  const seen: Record<T>[] = [];
  subscriptions.push(
    source.records().subscribe((r) => {
      seen.push(r);
      r.ack.ack();
    }),
  );
  return seen;
}

async function publish(
  messages: readonly { key: string; value: Buffer }[],
): Promise<void> {
  const sink = kafkaSink<Buffer>({
    brokers: env.kafkaBrokers,
    topic: names.topics.reviews,
    encode: (b) => b,
  });
  try {
    await sink.write(
      messages.map((m) => ({ ...m, timestamp: Date.now(), headers: {} })),
    );
    await sink.flush();
  } finally {
    await sink.close();
  }
}

describe("bad review events on the real stack", () => {
  it("go to the dead-letter topic with their reason headers, and a valid review written afterwards is still enriched", async () => {
    let failed: unknown;
    job.done.then(
      () => (failed ??= new Error("the enrichment job completed")),
      (e: unknown) => (failed = e),
    );
    const deadLetters = readAll(names.topics.deadLetters, (b) => b);
    const enriched = readAll(names.topics.enriched, decodeEnrichedReview);

    const garbage = Buffer.from("definitely not an Avro ReviewEvent", "utf8");
    const unknownId = randomUUID();
    await publish([
      { key: "garbage", value: garbage },
      { key: unknownId, value: eventCodec.encode(eventOf(unknownId)) },
    ]);

    const header = (r: Record<Buffer>, h: string) => r.headers[h];
    const byKey = await waitFor(
      "both dead letters",
      () => {
        const m = new Map(deadLetters.map((r) => [r.key, r]));
        return m.has("garbage") && m.has(unknownId) ? m : undefined;
      },
      30_000,
    );
    const bytes = byKey.get("garbage")!;
    expect(bytes.value.equals(garbage)).toBe(true);
    expect(header(bytes, DEAD_LETTER_HEADERS.code)).toBeTruthy();
    expect(header(bytes, DEAD_LETTER_HEADERS.stage)).toBe("decode");
    expect(header(bytes, DEAD_LETTER_HEADERS.message)).toBeTruthy();
    expect(header(bytes, DEAD_LETTER_HEADERS.topic)).toBe(names.topics.reviews);
    expect(header(bytes, DEAD_LETTER_HEADERS.partition)).toMatch(/^\d+$/);
    expect(header(bytes, DEAD_LETTER_HEADERS.offset)).toMatch(/^\d+$/);

    const missing = byKey.get(unknownId)!;
    expect(header(missing, DEAD_LETTER_HEADERS.code)).toBe("NOT_FOUND");
    expect(header(missing, DEAD_LETTER_HEADERS.message)).toContain(unknownId);
    expect(header(missing, DEAD_LETTER_HEADERS.stage)).toBeTruthy();
    expect(header(missing, DEAD_LETTER_HEADERS.topic)).toBe(
      names.topics.reviews,
    );
    expect(header(missing, DEAD_LETTER_HEADERS.offset)).toMatch(/^\d+$/);
    // The dead letter carries the event itself, so it can be replayed.
    expect(missing.value.toString("utf8")).toContain(unknownId);

    // The job goes on: a valid review written afterwards is enriched.
    const valid = FIXTURE_REVIEWS[0]!;
    const client = await reviewServiceClient(at(reviewPort));
    try {
      await client.put(valid);
    } finally {
      await client.close();
    }
    await publish([
      {
        key: valid.reviewId,
        value: eventCodec.encode(eventOf(valid.reviewId)),
      },
    ]);
    const out = await waitFor(
      "the valid review in reviews-enriched",
      () => enriched.find((r) => r.value.review.reviewId === valid.reviewId),
      30_000,
    );
    expect(out.value.movie.title).toBe("Orbit of Ash");
    expect(out.value.user.displayName).toBe("Ana S.");
    expect(enriched).toHaveLength(1);
    expect(deadLetters).toHaveLength(2);
    expect(failed).toBeUndefined();
  }, 60_000);
});
