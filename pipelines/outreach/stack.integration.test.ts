import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createPostgresPool,
  type PostgresPool,
} from "../../connectors/postgres/index.js";
import { SluiceError } from "../../operators/sluice-error.js";
import { runJob } from "../../runtime/lifecycle.js";
import { requireServices, type Endpoints } from "../../stack/index.js";
import { outreachCodecs } from "./avro.js";
import plannerJob from "./jobs/planner-job.js";
import resultsJob from "./jobs/results-job.js";
import senderJob from "./jobs/sender-job.js";
import { migrateActionLog, postgresActionLog } from "./postgres-action-log.js";
import {
  startJobServiceSimulator,
  startOutreachServiceSimulator,
  startSegmentServiceSimulator,
} from "./simulators.js";
import {
  DEMO_SEGMENTS,
  startOutreachSystem,
  type OutreachSystemOptions,
} from "./system.js";
import { kafkaTransport } from "./transport.js";
import { firingAt } from "./types.js";
import { kafkaSink } from "../../connectors/kafka/index.js";

// The outreach system on the real stack: Kafka topics carry the Avro pages and results, the
// action log is PostgreSQL. Every test uses its own topics, groups and schema and drops them.

let env: Endpoints;
let db: PostgresPool;
const schemas: string[] = [];

beforeAll(async () => {
  env = await requireServices(["kafka", "postgres"]);
  db = createPostgresPool({ connectionString: env.databaseUrl });
});

afterAll(async () => {
  for (const s of schemas)
    await db.pool.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
  await db.end();
});

async function onStack(extra: Partial<OutreachSystemOptions> = {}) {
  const id = randomBytes(4).toString("hex");
  const schema = `outreach_it_${id}`;
  schemas.push(schema);
  await migrateActionLog(db, schema);
  return startOutreachSystem({
    transport: kafkaTransport(env.kafkaBrokers, {
      jobs: `outreach-jobs-${id}`,
      results: `outreach-results-${id}`,
      deadLetters: `outreach-dead-letters-${id}`,
    }),
    actionLog: postgresActionLog(db, schema),
    segments: DEMO_SEGMENTS(400, 2),
    partitions: 2,
    groupPrefix: `outreach-it-${id}`,
    pageSize: 100,
    retry: { attempts: 10, initialBackoffMs: 1, maxBackoffMs: 20 },
    ...extra,
  });
}

const HOUR = Date.UTC(2026, 0, 6, 9);

describe("outreach on Kafka and PostgreSQL", () => {
  it("delivers one email per job, bad rows dead-lettered, and a rerun of the hour sends nothing twice", async () => {
    const sys = await onStack({
      missingEmailEvery: 13,
      unknownTemplateEvery: 17,
    });
    try {
      const firing = firingAt("outreach-planner", HOUR);
      expect((await sys.plan(firing)).pages).toBe(4);
      const counts = await sys.settled(firing.id, 400);
      expect(counts.DEAD).toBeGreaterThan(0);
      expect(counts.DELIVERED + counts.DEAD).toBe(400);
      expect(sys.outreachService.sent).toBe(counts.DELIVERED);
      expect(sys.segmentService.processedAt.size).toBe(2);
      expect(await sys.deadLetters()).toBe(counts.DEAD);
      const pages = sys.senderStats.pages;
      await sys.plan(firing);
      await until(() => sys.senderStats.pages >= pages + 4);
      expect(await sys.settled(firing.id, 400)).toEqual(counts);
      expect(sys.outreachService.sent).toBe(counts.DELIVERED);
      expect(sys.outreachService.duplicates).toBe(0);
    } finally {
      await sys.close();
    }
  });

  it("sends nothing with the feature flag off", async () => {
    const sys = await onStack({ enabled: false });
    try {
      const firing = firingAt("outreach-planner", HOUR);
      expect((await sys.plan(firing)).skipped).toBe("feature-off");
      expect(sys.outreachService.sent).toBe(0);
      expect((await sys.actionLog.counts(firing.id)).PLANNED).toBe(0);
    } finally {
      await sys.close();
    }
  });

  it("a sender killed in the middle of a send batch and started again sends every job exactly one email", async () => {
    let calls = 0;
    let dead = false;
    const ref: {
      crash?: () => Promise<void>;
      crashed?: Promise<void> | undefined;
    } = {};
    const sys = await onStack({
      sendBatch: 40,
      wrapOutreach: (client) => ({
        async send(emails) {
          if (dead) throw new SluiceError("CLOSED", "sender process is dead");
          const answers = await client.send(emails);
          if (++calls === 4) {
            dead = true;
            // Not awaited: a killed process does not wait for its consumer to leave.
            ref.crashed = ref.crash?.();
            throw new SluiceError("CLOSED", "sender process killed");
          }
          return answers;
        },
      }),
    });
    ref.crash = () => sys.crashSender();
    try {
      const firing = firingAt("outreach-planner", HOUR);
      await sys.plan(firing);
      await until(() => dead);
      await ref.crashed;
      expect(sys.outreachService.sent).toBeLessThan(400);
      dead = false;
      sys.startSender();
      const counts = await sys.settled(firing.id, 400, 40_000);
      expect(counts.DELIVERED).toBe(400);
      expect(sys.outreachService.sent).toBe(400);
      expect(
        [...sys.outreachService.perRecipient.values()].every((n) => n === 1),
      ).toBe(true);
    } finally {
      await sys.close();
    }
  });

  it("with 20% of calls failing, every job ends delivered or dead-lettered with a reason", async () => {
    const sys = await onStack({
      sendBatch: 20,
      failureRate: 0.2,
      lostAnswerRate: 0.1,
      outreachRetry: { attempts: 2, initialBackoffMs: 1, maxBackoffMs: 5 },
    });
    try {
      const firing = firingAt("outreach-planner", HOUR);
      await sys.plan(firing);
      const counts = await sys.settled(firing.id, 400);
      expect(counts.DELIVERED + counts.DEAD).toBe(400);
      expect(await sys.deadLetters()).toBeGreaterThanOrEqual(counts.DEAD);
      const { rows } = await db.pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM "${schemas.at(-1)}".outreach_actions WHERE state = 'DEAD' AND reason IS NULL`,
      );
      expect(rows[0]?.n).toBe(0);
      expect(
        [...sys.outreachService.perRecipient.values()].every((n) => n === 1),
      ).toBe(true);
    } finally {
      await sys.close();
    }
  });

  it("runs the deployed jobs (planner run-once, sender, results) with the API key from a secret file, never logged", async () => {
    const id = randomBytes(4).toString("hex");
    const schema = `outreach_it_${id}`;
    schemas.push(schema);
    const key = `sk-it-${randomBytes(8).toString("hex")}`;
    const dir = mkdtempSync(join(tmpdir(), "outreach-it-"));
    const topics = {
      jobs: `outreach-jobs-${id}`,
      results: `outreach-results-${id}`,
      deadLetters: `outreach-dead-letters-${id}`,
    };
    const segments = DEMO_SEGMENTS(300, 3);
    const resultsSink = kafkaSink<Buffer>({
      brokers: env.kafkaBrokers,
      topic: topics.results,
      encode: (b) => b,
    });
    const bar = await startSegmentServiceSimulator({ apiKey: key, segments });
    const icee = await startJobServiceSimulator({ apiKey: key, segments });
    const outreach = await startOutreachServiceSimulator({
      apiKey: key,
      onResults: (rs) =>
        resultsSink.write(
          rs.map((r) => ({
            key: r.idempotencyKey,
            value: outreachCodecs().result.encode(r),
          })),
        ),
    });
    writeFileSync(join(dir, "api-key"), `${key}\n`);
    const common = {
      apiKey: { file: join(dir, "api-key") },
      segmentServiceUrl: bar.url,
      jobServiceUrl: icee.url,
      outreachServiceUrl: outreach.url,
      topics,
      partitions: 2,
      schema,
    };
    const write = (name: string, job: object): string => {
      const path = join(dir, `${name}.json`);
      writeFileSync(
        path,
        JSON.stringify({
          logLevel: "debug",
          http: { port: 0, host: "127.0.0.1" },
          job,
        }),
      );
      return path;
    };
    const logs: string[] = [];
    const logDestination = new Writable({
      write(chunk: Buffer, _e, cb) {
        logs.push(chunk.toString("utf8"));
        cb();
      },
    });
    const runEnv = {
      KAFKA_BROKERS: env.kafkaBrokers.join(","),
      DATABASE_URL: env.databaseUrl,
    };
    const signals = { on: () => undefined, off: () => undefined };
    const start = (job: Parameters<typeof runJob>[0], config: string) =>
      runJob(job, {
        configFile: config,
        env: runEnv,
        logDestination,
        signals,
        exit: () => undefined,
      });
    const results = await start(
      resultsJob,
      write("results", {
        group: `outreach-it-results-${id}`,
        resultsTopic: topics.results,
        deadLetterTopic: topics.deadLetters,
        partitions: 2,
        schema,
      }),
    );
    const sender = await start(
      senderJob,
      write("sender", { ...common, group: `outreach-it-sender-${id}` }),
    );
    // An assertion failing in here must not be hidden by a failing stop in `finally`.
    let failed: unknown;
    let stopped: number[] | undefined;
    try {
      const planner = await start(
        plannerJob,
        write("planner", { ...common, runOnce: true, toleranceMs: 3_600_000 }),
      );
      expect(await planner.exited).toBe(0);
      expect(bar.processedAt.size).toBe(3);
      const log = postgresActionLog(db, schema);
      await until(async () => (await log.counts()).DELIVERED === 300, 90_000);
      expect(outreach.sent).toBe(300);
      // The same hour again (a CronJob retried): the firing is recorded done, nothing is sent.
      const again = await start(
        plannerJob,
        write("planner", { ...common, runOnce: true, toleranceMs: 3_600_000 }),
      );
      expect(await again.exited).toBe(0);
      expect(outreach.sent).toBe(300);
    } catch (error) {
      failed = error;
    } finally {
      stopped = [
        await sender.shutdown("test done"),
        await results.shutdown("test done"),
      ];
      await resultsSink.close();
      await Promise.all([bar.close(), icee.close(), outreach.close()]);
      const admin = kafkaTransport(env.kafkaBrokers, topics);
      await admin.teardown([
        `outreach-it-results-${id}`,
        `outreach-it-sender-${id}`,
      ]);
      rmSync(dir, { recursive: true, force: true });
    }
    if (failed !== undefined) throw failed as Error;
    // On a failed stop, show why: the jobs' warnings and errors.
    const trouble = logs
      .join("")
      .split("\n")
      .filter((l) => /"level":"(warn|error|fatal)"/i.test(l))
      .join("\n");
    expect(stopped, trouble).toEqual([0, 0]);
    const out = logs.join("");
    expect(out).toContain("firing planned");
    expect(out).toContain("***");
    expect(out).not.toContain(key);
  });
});

/**
 * Waits for `cond`; a throwing `cond` counts as "not yet" (the action log's table exists only
 * once the sender has migrated, which may be after the planner is done) and its last error
 * is reported if time runs out.
 */
async function until(
  cond: () => boolean | Promise<boolean>,
  timeoutMs = 60_000,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      if (await cond()) return;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > end)
      throw new Error(
        `condition not met in ${timeoutMs} ms${lastError === undefined ? "" : `; last error: ${(lastError as Error).message}`}`,
      );
    await new Promise((r) => setTimeout(r, 25));
  }
}
