import { randomBytes } from "node:crypto";
import { MemoryLog } from "../../connectors/memory/index.js";
import { createPostgresPool } from "../../connectors/postgres/index.js";
import {
  memoryFiringStore,
  scheduleSource,
} from "../../connectors/schedule/index.js";
import { lastValueFrom, take } from "rxjs";
import { ackAfter } from "../../operators/ack-after.js";
import type { DemoArgs } from "../../runtime/pipelines.js";
import { progress } from "../../runtime/progress.js";
import { requireServices } from "../../stack/index.js";
import {
  memoryActionLog,
  type ActionCounts,
  type ActionLog,
} from "./action-log.js";
import { migrateActionLog, postgresActionLog } from "./postgres-action-log.js";
import { DEMO_SEGMENTS, startOutreachSystem } from "./system.js";
import {
  embeddedTransport,
  kafkaTransport,
  type OutreachTransport,
} from "./transport.js";
import { DEFAULT_TOPICS, type Firing } from "./types.js";

const fmt = (n: number): string => n.toLocaleString("en");

/** The firing of the current hour, as the planner's schedule source (run-once) emits it. */
async function currentHourFiring(): Promise<Firing> {
  const source = scheduleSource({
    job: "outreach-planner",
    cron: "0 * * * *",
    timeZone: "UTC",
    store: memoryFiringStore(),
    mode: "run-once",
    toleranceMs: 3_600_000,
  });
  // Recorded done as soon as it is read: the demo runs the firing itself.
  const firing = await lastValueFrom(
    source.records().pipe(
      take(1),
      ackAfter((r) => [r.value]),
    ),
  );
  await source.close();
  return firing;
}

/**
 * `sluice demo outreach`: one hourly firing of the outreach system end to end on the embedded
 * log with the simulators (or on Kafka + PostgreSQL with `--stack local`), with a progress bar
 * and a summary. Some rows are bad on purpose (no email, a retired template) and the outreach
 * simulator fails 5% of calls, so dead letters and retries show.
 */
export async function runOutreachDemo(args: DemoArgs): Promise<void> {
  const jobs = args.size ?? 20_000;
  const runId = args.keep ?? randomBytes(4).toString("hex");
  let transport: OutreachTransport;
  let actionLog: ActionLog;
  let cleanup: () => Promise<void> = () => Promise.resolve();
  let where: string;
  if (args.stack === "local") {
    const env = await requireServices(["kafka", "postgres"]);
    const topics = {
      jobs: `outreach-jobs-${runId}`,
      results: `outreach-results-${runId}`,
      deadLetters: `outreach-dead-letters-${runId}`,
    };
    transport = kafkaTransport(
      env.kafkaBrokers,
      topics,
      args.keep !== undefined,
    );
    const db = createPostgresPool({ connectionString: env.databaseUrl });
    const schema = `outreach_${runId.replace(/[^a-z0-9_]/g, "_")}`;
    await migrateActionLog(db, schema);
    actionLog = postgresActionLog(db, schema);
    where = `Kafka topics ${Object.values(topics).join(", ")}; action log ${schema}.outreach_actions`;
    cleanup = async () => {
      if (args.keep === undefined)
        await db.pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await db.end();
    };
  } else {
    transport = embeddedTransport(new MemoryLog(), DEFAULT_TOPICS);
    actionLog = memoryActionLog();
    where = "embedded memory log and action log";
  }
  const firing = await currentHourFiring();
  console.log(
    `Sluice demo: outreach (seeds/000), one hourly firing ${firing.id}\n` +
      `  planner: feature flag → segment service (active schedules) → job service (pages of ids) → ${transport.kind === "kafka" ? "Kafka" : "log"} ${transport.topics.jobs} → processedAt\n` +
      `  sender: action log (bulk lookup) → evaluation (template, subject, action id) → plan → outreach service → confirm\n` +
      `  results: outreach service → ${transport.topics.results} → action log\n` +
      `  ${fmt(jobs)} job ids in 4 segments, ${args.partitions} partitions; 1 job in 97 has no email, 1 in 89 a retired template; the outreach service fails 5% of calls\n`,
  );
  const bar = progress("emails", jobs);
  let planned = 0;
  const sys = await startOutreachSystem({
    transport,
    actionLog,
    segments: DEMO_SEGMENTS(jobs, 4),
    partitions: args.partitions,
    groupPrefix: `outreach-${runId}`,
    missingEmailEvery: 97,
    unknownTemplateEvery: 89,
    failureRate: 0.05,
    onPlannedPage: (n) => {
      planned += n;
    },
  });
  const started = Date.now();
  const timer = setInterval(() => {
    const s = sys.senderStats;
    bar.update(
      Math.min(jobs, s.sent + s.deadLettered),
      `planned ${fmt(planned)} ids, sent ${fmt(s.sent)}, delivered ${fmt(sys.resultsStats.delivered)}, dead ${fmt(s.deadLettered)}`,
    );
  }, 200);
  let counts: ActionCounts;
  let report;
  try {
    report = await sys.plan(firing);
    counts = await sys.settled(firing.id, jobs, 600_000);
  } finally {
    clearInterval(timer);
    bar.update(jobs, "done");
    bar.stop();
  }
  const seconds = (Date.now() - started) / 1000;
  const dead = await sys.deadLetters();
  const before = sys.outreachService.sent;
  const pagesBefore = sys.senderStats.pages;
  const again = await sys.plan(firing);
  const until = Date.now() + 120_000;
  while (
    sys.senderStats.pages < pagesBefore + again.pages &&
    Date.now() < until
  )
    await new Promise((r) => setTimeout(r, 50));
  const sentTwice = sys.outreachService.sent - before;
  await sys.close();
  await cleanup();
  console.log(
    `\nplanner: ${report.segments} segments, ${fmt(report.pages)} pages, ${fmt(report.jobIds)} job ids; processedAt set on ${sys.segmentService.processedAt.size} segments\n` +
      `action log: ${fmt(counts.DELIVERED)} delivered, ${fmt(counts.FAILED)} failed, ${fmt(counts.DEAD)} dead-lettered (${fmt(dead)} dead letters on ${transport.topics.deadLetters}: no email or unknown template)\n` +
      `outreach service: ${fmt(sys.outreachService.sent)} emails sent, ${fmt(sys.outreachService.rejected)} rejected, ${fmt(sys.outreachService.duplicates)} duplicate requests absorbed by the idempotency key\n` +
      `rerun of the same hour: ${fmt(again.pages)} pages again, ${fmt(sentTwice)} emails sent twice\n` +
      `throughput: ${fmt(Math.round(jobs / seconds))} job ids/s end to end (${seconds.toFixed(1)} s)\n` +
      `where: ${where}${args.stack === "local" && args.keep === undefined ? " (dropped; pass --keep <id> to keep them)" : ""}`,
  );
  if (sentTwice > 0 || counts.PLANNED + counts.SENT > 0) process.exitCode = 1;
}
