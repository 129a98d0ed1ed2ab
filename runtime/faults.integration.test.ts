// Faults are weather: a job keeps running across a Kafka broker restart and a PostgreSQL
// restart (its checkpoint store), /readyz goes false meanwhile and true again, nothing is
// lost. The services restarted are PRIVATE instances (stack/private-services.ts), never the
// shared stack; the output is read back with plain kafkajs, not Sluice's source.
import { EventEmitter } from "node:events";
import kafkajs from "kafkajs";
import pg from "pg";
import { lastValueFrom, map } from "rxjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { kafkaSink } from "../connectors/kafka/sink.js";
import { kafkaSource } from "../connectors/kafka/source.js";
import { writeTo } from "../connectors/write-to.js";
import { memoryStateBackend } from "../operators/memory-state-backend.js";
import { derive } from "../operators/record.js";
import {
  privateKafka,
  privatePostgres,
  type PrivateKafka,
  type PrivatePostgres,
} from "../stack/private-services.js";
import { waitFor as until } from "../stack/smoke/wait.js";
import { defineJob } from "./job.js";
import { runJob } from "./lifecycle.js";
import type { JobRun } from "./lifecycle.js";

let kafka: PrivateKafka;
let db: PrivatePostgres;
beforeAll(async () => {
  [kafka, db] = await Promise.all([privateKafka(), privatePostgres()]);
});
afterAll(async () => {
  await Promise.all([kafka?.dispose(), db?.dispose()]);
});

const raw = () =>
  new kafkajs.Kafka({
    clientId: "faults-test",
    brokers: [...kafka.brokers],
    logLevel: kafkajs.logLevel.NOTHING,
    retry: { retries: 10, initialRetryTime: 200, maxRetryTime: 2_000 },
  });

async function createTopics(...topics: string[]): Promise<void> {
  const admin = raw().admin();
  await admin.connect();
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: topics.map((topic) => ({ topic, numPartitions: 2 })),
    });
  } finally {
    await admin.disconnect();
  }
}

async function produce(topic: string, from: number, to: number): Promise<void> {
  const producer = raw().producer();
  await producer.connect();
  try {
    const messages = [];
    for (let i = from; i < to; i++)
      messages.push({ key: `k${i % 7}`, value: String(i) });
    await producer.send({ topic, messages, acks: -1 });
  } finally {
    await producer.disconnect();
  }
}

/** Records in `topic` (sum of high watermarks); 0 while the broker does not answer. */
async function written(topic: string): Promise<number> {
  const admin = raw().admin({ retry: { retries: 0 } });
  try {
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((n, o) => n + Number(o.high), 0);
  } catch {
    return 0;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** Every value in `topic`, read from the start by a fresh group of plain kafkajs. */
async function valuesIn(topic: string, expected: number): Promise<Set<number>> {
  const consumer = raw().consumer({ groupId: `readback-${Date.now()}` });
  const seen = new Set<number>();
  let count = 0;
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachMessage: ({ message }) => {
        seen.add(Number(message.value?.toString()));
        count += 1;
        return Promise.resolve();
      },
    });
    await until(`${expected} records in ${topic}`, () =>
      count >= expected ? true : undefined,
    );
  } finally {
    await consumer.disconnect();
  }
  return seen;
}

const copied = (topic: string, n: number) =>
  until(`${n} records copied to ${topic}`, async () =>
    (await written(topic)) >= n ? true : undefined,
  );

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** in → out copy job with keyed state checkpointed to the configured store. */
function copyJob(topicIn: string, topicOut: string, group: string) {
  return defineJob({
    name: "faults-copy",
    config: z.object({}),
    async run(ctx) {
      const source = ctx.addSource(
        kafkaSource<string>({
          brokers: kafka.brokers,
          group,
          topics: [topicIn],
          decode: (b) => b.toString("utf8"),
          onDecodeError: "skip",
          commitIntervalMs: 200,
          outageDeadlineMs: 90_000,
        }),
        { state: memoryStateBackend() },
      );
      const sink = ctx.addSink(
        kafkaSink<string>({
          brokers: kafka.brokers,
          topic: topicOut,
          encode: (s) => Buffer.from(s, "utf8"),
          outageDeadlineMs: 90_000,
        }),
      );
      ctx.ready();
      await lastValueFrom(
        source.records().pipe(
          map((r) => derive(r, r.value)),
          writeTo(sink, { maxBatch: 50, maxWaitMs: 10 }),
        ),
        { defaultValue: undefined },
      );
    },
  });
}

class Lines {
  readonly lines: { msg?: string; level?: string | number }[] = [];
  write(line: string): void {
    this.lines.push(JSON.parse(line) as { msg?: string });
  }
  has(msg: string): boolean {
    return this.lines.some((l) => l.msg === msg);
  }
}

async function start(
  job: Parameters<typeof runJob>[0],
  env: NodeJS.ProcessEnv,
  logs: Lines,
): Promise<JobRun> {
  return runJob(job, {
    env: { SLUICE_SHUTDOWN_TIMEOUT_MS: "15000", ...env },
    port: 0,
    signals: new EventEmitter(),
    logDestination: logs,
    jobStatsIntervalMs: 0,
    handleProcessErrors: true,
  });
}

/** Waits until readiness is `ready`, returning the reasons seen on the way. */
async function readiness(
  run: JobRun,
  ready: boolean,
  timeoutMs: number,
): Promise<string[]> {
  const reasons: string[] = [];
  await until(
    `readiness ${String(ready)}`,
    () => {
      const r = run.readiness();
      if (!r.ready && r.reason !== undefined) reasons.push(r.reason);
      return r.ready === ready ? true : undefined;
    },
    timeoutMs,
    20,
  );
  return reasons;
}

describe("a running job across service restarts", () => {
  it("keeps running across a Kafka broker restart: not ready while the broker is down, ready again after, nothing lost", async () => {
    const id = Date.now().toString(36);
    const [topicIn, topicOut] = [`in-${id}`, `out-${id}`];
    await createTopics(topicIn, topicOut);
    await produce(topicIn, 0, 100);
    const logs = new Lines();
    const run = await start(copyJob(topicIn, topicOut, `g-${id}`), {}, logs);
    await readiness(run, true, 30_000);
    await copied(topicOut, 100);

    await kafka.stop();
    const reasons = await readiness(run, false, 30_000);
    expect(reasons.join("\n")).toMatch(/kafka/);
    await kafka.start();
    await produce(topicIn, 100, 200);
    await readiness(run, true, 60_000);
    await copied(topicOut, 200);

    const seen = await valuesIn(topicOut, 200);
    expect(range(200).filter((i) => !seen.has(i))).toEqual([]);
    expect(await run.shutdown("test done")).toBe(0);
    expect(logs.has("job failed")).toBe(false);
    expect(logs.has("dependency answers again")).toBe(true);
    // A broker start takes 5-40 s on a loaded 2-core machine; the rest is seconds.
  }, 180_000);

  it("keeps running across a PostgreSQL restart of its checkpoint store: a failed save is retried, readiness false then true, nothing lost", async () => {
    const id = Date.now().toString(36);
    const [topicIn, topicOut] = [`pin-${id}`, `pout-${id}`];
    await createTopics(topicIn, topicOut);
    await produce(topicIn, 0, 100);
    const logs = new Lines();
    const run = await start(
      copyJob(topicIn, topicOut, `pg-${id}`),
      {
        SLUICE_CHECKPOINT_STORE: "postgres",
        SLUICE_POSTGRES_URL: db.url,
        SLUICE_CHECKPOINT_INTERVAL_MS: "300",
      },
      logs,
    );
    const client = () => {
      const c = new pg.Client({ connectionString: db.url });
      c.on("error", () => undefined);
      return c;
    };
    const lastSave = async (): Promise<number> => {
      const c = client();
      try {
        await c.connect();
        const r = await c.query<{ at: Date | null }>(
          "SELECT max(updated_at) AS at FROM sluice.checkpoints WHERE job = 'faults-copy' AND topic = $1",
          [topicIn],
        );
        return r.rows[0]?.at?.getTime() ?? 0;
      } catch {
        return 0;
      } finally {
        await c.end().catch(() => undefined);
      }
    };
    await readiness(run, true, 30_000);
    await copied(topicOut, 100);
    await until("a first checkpoint", async () =>
      (await lastSave()) > 0 ? true : undefined,
    );

    await db.stop(); // -m fast: open connections get 57P01
    const reasons = await readiness(run, false, 20_000);
    expect(reasons.join("\n")).toMatch(/postgres checkpoint/);
    await produce(topicIn, 100, 200); // the job goes on while its store is down
    await db.start();
    const restarted = Date.now();
    await readiness(run, true, 30_000);
    await until("a checkpoint saved after the restart", async () =>
      (await lastSave()) >= restarted - 1_000 ? true : undefined,
    );
    await copied(topicOut, 200);

    const seen = await valuesIn(topicOut, 200);
    expect(range(200).filter((i) => !seen.has(i))).toEqual([]);
    expect(await run.shutdown("test done")).toBe(0);
    expect(logs.has("job failed")).toBe(false);
  });
});
