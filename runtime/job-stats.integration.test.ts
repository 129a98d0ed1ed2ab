import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import {
  KafkaSinkMetrics,
  KafkaSourceMetrics,
} from "../connectors/kafka/metrics.js";
import { MemoryLog } from "../connectors/memory/log.js";
import { memorySink } from "../connectors/memory/sink.js";
import { memorySource } from "../connectors/memory/source.js";
import {
  createPostgresPool,
  type PostgresPool,
} from "../connectors/postgres/index.js";
import { requireServices, type Endpoints } from "../stack/index.js";
import { uniqueName, waitFor } from "../stack/smoke/wait.js";
import { defineJob } from "./job.js";
import { runJob } from "./lifecycle.js";

const schema = uniqueName("jobstats").replace(/[^a-z0-9_]/g, "");
let env: Endpoints;
let db: PostgresPool;

beforeAll(async () => {
  env = await requireServices(["postgres"]);
  db = createPostgresPool({ connectionString: env.databaseUrl });
});

afterAll(async () => {
  await db?.pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await db?.end();
});

/**
 * A job whose (Kafka-shaped) source counted 40 records in and whose sink 30 out, then waits to
 * be stopped: the runtime exports the counters of what it is handed, as for real connectors.
 */
const job = defineJob({
  name: "stats-probe",
  config: z.object({}),
  async run(ctx) {
    const log = new MemoryLog();
    log.createTopic("probe", { partitions: 1 });
    const inMetrics = new KafkaSourceMetrics();
    inMetrics.recordsIn = 40;
    const outMetrics = new KafkaSinkMetrics();
    outMetrics.recordsOut = 30;
    ctx.addSource(
      Object.assign(memorySource(log, { group: "g", topics: ["probe"] }), {
        metrics: inMetrics,
      }),
    );
    ctx.addSink(
      Object.assign(memorySink(log, { topic: "probe" }), {
        metrics: outMetrics,
      }),
    );
    ctx.ready();
    await new Promise<void>((resolve) =>
      ctx.signal.addEventListener("abort", () => resolve()),
    );
  },
});

describe("runJob with postgres configured", () => {
  it("writes the job's counters to <postgres.schema>.job_stats every interval and once more at shutdown", async () => {
    const run = await runJob(job, {
      env: {
        DATABASE_URL: env.databaseUrl,
        SLUICE_POSTGRES_SCHEMA: schema,
        SLUICE_CHECKPOINT_INTERVAL_MS: "0",
      },
      port: 0,
      jobStatsIntervalMs: 100,
      logDestination: { write: () => undefined },
      signals: { on: () => undefined, off: () => undefined },
    });
    const count = async (): Promise<number> =>
      Number(
        (
          await db.pool.query<{ n: string }>(
            `SELECT count(*) AS n FROM ${schema}.job_stats WHERE job = 'stats-probe'`,
          )
        ).rows[0]!.n,
      );
    await waitFor(
      "two job stats snapshots",
      async () => ((await count()) >= 2 ? true : undefined),
      15_000,
    );
    const before = await count();
    expect(await run.shutdown("test")).toBe(0);
    expect(await count()).toBeGreaterThan(before);
    const last = await db.pool.query<{
      records_in: string;
      records_out: string;
      dead_letters: string;
    }>(
      `SELECT records_in, records_out, dead_letters FROM ${schema}.job_stats ORDER BY taken_at DESC LIMIT 1`,
    );
    expect(last.rows[0]).toEqual({
      records_in: "40",
      records_out: "30",
      dead_letters: "0",
    });
    const rates = await db.pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM ${schema}.job_stats_rates WHERE records_in_per_s IS NOT NULL`,
    );
    expect(Number(rates.rows[0]!.n)).toBeGreaterThan(0);
  });

  it("writes nothing when the interval is 0", async () => {
    const other = `${schema}_off`;
    const run = await runJob(job, {
      env: {
        DATABASE_URL: env.databaseUrl,
        SLUICE_POSTGRES_SCHEMA: other,
        SLUICE_CHECKPOINT_INTERVAL_MS: "0",
        SLUICE_JOB_STATS_INTERVAL_MS: "0",
      },
      port: 0,
      logDestination: { write: () => undefined },
      signals: { on: () => undefined, off: () => undefined },
    });
    expect(await run.shutdown("test")).toBe(0);
    const t = await db.pool.query(
      `SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'job_stats'`,
      [other],
    );
    expect(t.rowCount).toBe(0);
  });
});
