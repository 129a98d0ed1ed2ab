// SIGKILL of a real `sluice run outreach-sender` process in the middle of a send batch (the
// outreach service has accepted the batch, the sender never sees the answer), then a second
// sender process in the same group: every job gets exactly one email (Kafka, PostgreSQL).
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kafkaSink } from "../../connectors/kafka/index.js";
import {
  createPostgresPool,
  type PostgresPool,
} from "../../connectors/postgres/index.js";
import { runJob, type JobRun } from "../../runtime/lifecycle.js";
import { requireServices, type Endpoints } from "../../stack/index.js";
import { waitFor } from "../../stack/smoke/wait.js";
import {
  setUpStack,
  sluiceProcesses,
  type SluiceProcess,
} from "../reviews/testing/sluice-process.js";
import { outreachCodecs } from "./avro.js";
import plannerJob from "./jobs/planner-job.js";
import resultsJob from "./jobs/results-job.js";
import { postgresActionLog } from "./postgres-action-log.js";
import {
  startJobServiceSimulator,
  startOutreachServiceSimulator,
  startSegmentServiceSimulator,
} from "./simulators.js";
import { DEMO_SEGMENTS } from "./system.js";
import { kafkaTransport } from "./transport.js";

const JOBS = 400;
/** The outreach call during which the first sender is killed (batches of 40: ≤ 120 sent). */
const KILL_AT_CALL = 3;

const processes = sluiceProcesses();
let env: Endpoints;
let db: PostgresPool | undefined;

beforeAll(async () => {
  env = await requireServices(["kafka", "postgres"]);
  setUpStack();
  db = createPostgresPool({ connectionString: env.databaseUrl });
});

afterAll(async () => {
  processes.killAll();
  await db?.end();
});

describe("outreach sender killed mid-batch (a real process)", () => {
  it("SIGKILL while a send batch is accepted but unanswered, restart: every job gets exactly one email", async () => {
    const pg = db;
    if (pg === undefined)
      throw new Error("no PostgreSQL pool (beforeAll failed)");
    const id = randomBytes(4).toString("hex");
    const schema = `outreach_kill_${id}`;
    const group = `outreach-kill-sender-${id}`;
    const resultsGroup = `outreach-kill-results-${id}`;
    const topics = {
      jobs: `outreach-jobs-${id}`,
      results: `outreach-results-${id}`,
      deadLetters: `outreach-dead-letters-${id}`,
    };
    const key = `sk-kill-${randomBytes(8).toString("hex")}`;
    const dir = mkdtempSync(join(tmpdir(), "outreach-kill-"));
    writeFileSync(join(dir, "api-key"), `${key}\n`);
    const segments = DEMO_SEGMENTS(JOBS, 2);
    const resultsSink = kafkaSink<Buffer>({
      brokers: env.kafkaBrokers,
      topic: topics.results,
      encode: (b) => b,
    });
    let calls = 0;
    let victim: SluiceProcess | undefined;
    let killedAt: number | undefined;
    /** The batch accepted in the call the sender died in. */
    let unanswered = new Set<string>();
    const bar = await startSegmentServiceSimulator({ apiKey: key, segments });
    const icee = await startJobServiceSimulator({ apiKey: key, segments });
    const outreach = await startOutreachServiceSimulator({
      apiKey: key,
      onResults: async (rs) => {
        // The unanswered batch's delivery results wait until the restarted sender has sent
        // it again (its rows are still PLANNED), so that resend is what the test sees, not
        // a race with the results job; 30 s at most, then they go out anyway.
        if (rs.some((r) => unanswered.has(r.idempotencyKey)))
          await waitFor(
            "the unanswered batch sent again",
            () => (outreach.duplicates >= unanswered.size ? true : undefined),
            30_000,
          ).catch(() => undefined);
        await resultsSink.write(
          rs.map((r) => ({
            key: r.idempotencyKey,
            value: outreachCodecs().result.encode(r),
          })),
        );
      },
      // The batch is accepted and counted; the caller dies before it reads the answer.
      beforeAnswer: ({ accepted }) => {
        calls += 1;
        if (calls === KILL_AT_CALL && victim !== undefined) {
          killedAt = outreach.sent;
          unanswered = new Set(accepted);
          victim.child.kill("SIGKILL");
        }
      },
    });
    const senderEnv = {
      SLUICE_KAFKA_BROKERS: env.kafkaBrokers.join(","),
      SLUICE_POSTGRES_URL: env.databaseUrl,
      SLUICE_HTTP_PORT: "0",
      SLUICE_JOB__API_KEY: JSON.stringify({ file: join(dir, "api-key") }),
      SLUICE_JOB__SEGMENT_SERVICE_URL: bar.url,
      SLUICE_JOB__JOB_SERVICE_URL: icee.url,
      SLUICE_JOB__OUTREACH_SERVICE_URL: outreach.url,
      SLUICE_JOB__TOPICS: JSON.stringify(topics),
      SLUICE_JOB__PARTITIONS: "2",
      SLUICE_JOB__SCHEMA: schema,
      SLUICE_JOB__GROUP: group,
      SLUICE_JOB__CONCURRENCY: "1",
      SLUICE_JOB__SEND_BATCH: "40",
    };
    const logs: string[] = [];
    const logDestination = new Writable({
      write(chunk: Buffer, _e, cb) {
        logs.push(chunk.toString("utf8"));
        cb();
      },
    });
    const start = (job: Parameters<typeof runJob>[0], config: object) => {
      const path = join(
        dir,
        `${job.name}-${randomBytes(2).toString("hex")}.json`,
      );
      writeFileSync(
        path,
        JSON.stringify({ http: { port: 0, host: "127.0.0.1" }, job: config }),
      );
      return runJob(job, {
        configFile: path,
        env: {
          KAFKA_BROKERS: env.kafkaBrokers.join(","),
          DATABASE_URL: env.databaseUrl,
        },
        logDestination,
        signals: { on: () => undefined, off: () => undefined },
        exit: () => undefined,
      });
    };
    const common = {
      apiKey: { file: join(dir, "api-key") },
      segmentServiceUrl: bar.url,
      jobServiceUrl: icee.url,
      outreachServiceUrl: outreach.url,
      topics,
      partitions: 2,
      schema,
    };
    let results: JobRun | undefined;
    let failed: unknown;
    try {
      results = await start(resultsJob, {
        group: resultsGroup,
        resultsTopic: topics.results,
        deadLetterTopic: topics.deadLetters,
        partitions: 2,
        schema,
      });
      victim = processes.run("outreach-sender", senderEnv);
      const planner = await start(plannerJob, {
        ...common,
        runOnce: true,
        toleranceMs: 3_600_000,
        pageSize: 100,
      });
      expect(await planner.exited).toBe(0);
      const [, signal] = (await once(victim.child, "exit")) as [
        number | null,
        NodeJS.Signals | null,
      ];
      expect(signal, victim.output()).toBe("SIGKILL");
      expect(killedAt).toBeGreaterThan(0);
      expect(killedAt).toBeLessThan(JOBS);

      const second = processes.run("outreach-sender", senderEnv);
      const log = postgresActionLog(pg, schema);
      // A throw here (the table not there yet, the process gone) is kept as the cause.
      await waitFor(
        `${JOBS} jobs DELIVERED`,
        async () => {
          second.assertRunning();
          return (await log.counts()).DELIVERED === JOBS ? true : undefined;
        },
        90_000,
      );
      expect(outreach.sent).toBe(JOBS);
      expect(outreach.perRecipient.size).toBe(JOBS);
      expect([...outreach.perRecipient.values()].every((n) => n === 1)).toBe(
        true,
      );
      // The killed batch was accepted and never answered: the second sender sent it again
      // under the same idempotency keys, and the service answered DUPLICATE for each.
      expect(unanswered.size).toBeGreaterThan(0);
      expect(outreach.duplicates).toBe(unanswered.size);
      await second.stop("SIGTERM");
      expect(second.child.exitCode, second.output()).toBe(0);
    } catch (error) {
      failed = error;
    } finally {
      processes.killAll();
      const stopped = await results?.shutdown("test done");
      await resultsSink.close();
      await Promise.all([bar.close(), icee.close(), outreach.close()]);
      // The killed member stays in the group until its session ends: the group may still
      // be "not empty" here, so the topics and groups are dropped on a best-effort basis.
      await kafkaTransport(env.kafkaBrokers, topics)
        .teardown([group, resultsGroup])
        .catch(() => undefined);
      await pg.pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      rmSync(dir, { recursive: true, force: true });
      if (failed === undefined && stopped !== 0)
        failed = new Error(
          `the results job stopped with ${stopped}:\n${logs.join("")}`,
        );
    }
    if (failed !== undefined) throw failed as Error;
  }, 180_000);
});
