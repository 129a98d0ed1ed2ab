import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MemoryLog } from "../connectors/memory/log.js";
import { createPostgresPool } from "../connectors/postgres/pool.js";
import type { PostgresPool } from "../connectors/postgres/pool.js";
import { migratePostgres } from "../connectors/postgres/migrate.js";
import { postgresCheckpointStore } from "../connectors/postgres/checkpoint-store.js";
import { requireServices } from "../stack/index.js";
import { TOPIC, startCountJob, waitUntil } from "./testing/count-job.js";

const KEYS = ["a", "b", "c", "d"];
let db: PostgresPool;
const schema = `rt_${randomUUID().replaceAll("-", "").slice(0, 12)}`;

beforeAll(async () => {
  const env = await requireServices(["postgres"]);
  db = createPostgresPool({ connectionString: env.databaseUrl, schema });
  await migratePostgres(db);
});
afterAll(async () => {
  await db?.pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await db?.end();
});

describe("checkpoint coordinator on PostgreSQL", () => {
  it("a keyed count crashed mid-stream resumes from the PostgreSQL checkpoint with exact counts", async () => {
    const partitions = 3;
    const log = new MemoryLog();
    log.createTopic(TOPIC, { partitions });
    const reference = new Map<string, number>();
    for (let i = 0; i < 600; i++) {
      const key = KEYS[(i * 7) % KEYS.length]!;
      log.append(TOPIC, { key, value: i });
      reference.set(key, (reference.get(key) ?? 0) + 1);
    }
    const store = postgresCheckpointStore(db);
    const first = startCountJob(log, store, { sinkDelayMs: (n) => n % 2 });
    const checkpoints: Promise<unknown>[] = [];
    let crashing: Promise<void> | undefined;
    first.onProcessed((n) => {
      if (n === 150 || n === 320)
        checkpoints.push(first.coordinator.checkpoint());
      if (n === 400)
        queueMicrotask(() => {
          crashing ??= first.crash();
        });
    });
    await waitUntil(() => crashing !== undefined, 20_000, "the crash");
    await crashing;
    await Promise.all(checkpoints);
    const saved = await Promise.all(
      [0, 1, 2].map((p) => store.loadCheckpoint("count", TOPIC, p)),
    );
    expect(saved.some((c) => (c?.offsets.committed ?? 0) > 0)).toBe(true);

    const second = startCountJob(log, store, { sinkDelayMs: (n) => n % 2 });
    await waitUntil(() => second.caughtUp(partitions), 20_000, "catch-up");
    await second.coordinator.restored();
    await waitUntil(() => second.caughtUp(partitions), 20_000, "catch-up");
    expect(second.counts(KEYS, partitions)).toEqual(reference);
    second.coordinator.close();
    await second.source.close();
    second.subscription.unsubscribe();
  });
});
