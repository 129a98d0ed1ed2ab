import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import cassandra from "cassandra-driver";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCodec } from "../../../avro/index.js";
import {
  kafkaAdmin,
  kafkaSink,
  kafkaSource,
  type KafkaAdmin,
} from "../../../connectors/kafka/index.js";
import type { Record as SluiceRecord } from "../../../operators/record.js";
import { requireServices, type Endpoints } from "../../../stack/index.js";
import { uniqueName, waitFor } from "../../../stack/smoke/wait.js";
import { cassandraChangeFeed } from "./cassandra-change-feed.js";
import { filePositionStore } from "./position-store.js";
import { cdcRelay, type CdcRelay, type ReviewEventValue } from "./relay.js";

const codec = createCodec<ReviewEventValue>("dev.sluice.reviews.ReviewEvent");
const keyspace = uniqueName("cdc_it");
const table = `${keyspace}.reviews`;
const topic = uniqueName("reviews_cdc");
let env: Endpoints;
let db: cassandra.Client;
let admin: KafkaAdmin;
let dir: string;

beforeAll(async () => {
  env = await requireServices(["cassandra", "kafka"]);
  db = new cassandra.Client({
    contactPoints: [...env.cassandraContactPoints],
    localDataCenter: env.cassandraLocalDc,
  });
  await db.connect();
  await db.execute(
    `CREATE KEYSPACE ${keyspace} WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}`,
  );
  await db.execute(
    `CREATE TABLE ${table} (id uuid PRIMARY KEY, body text) WITH cdc = true`,
  );
  admin = kafkaAdmin({ brokers: env.kafkaBrokers });
  await admin.createTopics([{ topic, partitions: 3 }]);
  dir = await mkdtemp(join(tmpdir(), "sluice-cdc-"));
});

afterAll(async () => {
  await admin?.deleteTopics([topic]);
  await admin?.close();
  await db?.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`);
  await db?.shutdown();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

let cdcRaw: string | undefined;

async function startRelay(): Promise<CdcRelay> {
  const feed = cassandraChangeFeed({
    tables: [table],
    contactPoints: env.cassandraContactPoints,
    localDataCenter: env.cassandraLocalDc,
  });
  const relay = await cdcRelay({
    feed,
    sink: kafkaSink<ReviewEventValue>({
      brokers: env.kafkaBrokers,
      topic,
      encode: (v) => codec.encode(v),
    }),
    positions: filePositionStore(join(dir, "position.json")),
    tables: [table],
  });
  await waitFor("the reader to start", () => feed.cdcRawDirectory);
  cdcRaw = feed.cdcRawDirectory;
  const close = relay.close.bind(relay);
  return Object.assign(relay, {
    close: async () => {
      await close();
      await feed.close();
    },
  });
}

async function insert(count: number, body = "ok"): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const id = cassandra.types.Uuid.random();
    ids.push(id.toString());
    await db.execute(
      `INSERT INTO ${table} (id, body) VALUES (?, ?)`,
      [id, body],
      { prepare: true },
    );
  }
  return ids;
}

async function readTopic(
  expected: number,
): Promise<SluiceRecord<ReviewEventValue>[]> {
  const source = kafkaSource<ReviewEventValue>({
    brokers: env.kafkaBrokers,
    group: uniqueName("cdc_it_reader"),
    topics: [topic],
    decode: (b) => codec.decode(b),
    startFrom: "earliest",
    onDecodeError: "fail",
  });
  const got: SluiceRecord<ReviewEventValue>[] = [];
  const sub = source.records().subscribe((r) => {
    got.push(r);
    r.ack.ack();
  });
  try {
    await waitFor(`${String(expected)} events on ${topic}`, () =>
      got.length >= expected ? true : undefined,
    );
    return got;
  } finally {
    sub.unsubscribe();
    await source.close();
  }
}

describe("CDC relay on the real Cassandra and Kafka", () => {
  it("relays N writes as N ReviewEvents, resumes after a restart without loss or duplicates, and deletes processed segments", async () => {
    const first = await startRelay();
    const started = Date.now();
    const a = await insert(40);
    await waitFor(
      "40 events published",
      () => (first.stats.published >= 40 ? true : undefined),
      30_000,
    );
    const latencyMs = Date.now() - started;
    await first.close();

    // Written while the relay is down: read on restart from the recorded position.
    const b = await insert(20);
    const second = await startRelay();
    // ~5 MB of rows completes the 4 MiB commit-log segment holding the first rows.
    const big = await insert(50, "x".repeat(100_000));
    const c = await insert(5);
    const all = [...a, ...b, ...big, ...c];
    await waitFor(
      "the rest published",
      () => (second.stats.published >= all.length - 40 ? true : undefined),
      40_000,
    );
    const position = second.position;
    await second.close();
    expect(first.stats.published + second.stats.published).toBe(all.length);

    const events = await readTopic(all.length);
    const ids = events.map((r) => r.value.reviewId);
    expect(new Set(ids)).toEqual(new Set(all));
    expect(ids).toHaveLength(all.length); // clean restarts: no duplicate at all
    for (const r of events) expect(r.key).toBe(r.value.reviewId);

    // Segments the relay finished are gone from cdc_raw; nothing older than the recorded position stays.
    expect(position).toBeDefined();
    const firstSegment = Number(
      (
        events.find((r) => r.value.reviewId === a[0])?.headers[
          "cdc-position"
        ] ?? ""
      ).split(":")[0],
    );
    expect(firstSegment).toBeLessThan(position!.segmentId);
    const left = (await readdir(cdcRaw!))
      .map((n) => /-(\d+)(?:_cdc\.idx|\.log)$/.exec(n)?.[1])
      .filter((id): id is string => id !== undefined)
      .map(Number);
    expect(left.filter((id) => id < position!.segmentId)).toEqual([]);
    console.log(
      `cdc relay: ${String(all.length)} events, first 40 published ${String(latencyMs)} ms after the first write`,
    );
  });
});
