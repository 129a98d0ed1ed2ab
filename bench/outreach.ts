import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import {
  createPostgresPool,
  type PostgresPool,
} from "../connectors/postgres/index.js";
import { Secret } from "../runtime/config.js";
import { silentLogger } from "../runtime/log.js";
import {
  JobServiceClient,
  OutreachServiceClient,
  SegmentServiceClient,
} from "../pipelines/outreach/clients.js";
import { runPlannerFiring } from "../pipelines/outreach/planner.js";
import {
  startJobServiceSimulator,
  startOutreachServiceSimulator,
  startSegmentServiceSimulator,
} from "../pipelines/outreach/simulators.js";
import {
  migrateActionLog,
  postgresActionLog,
} from "../pipelines/outreach/postgres-action-log.js";
import { newResultsStats, runResults } from "../pipelines/outreach/results.js";
import { newSenderStats, runSender } from "../pipelines/outreach/sender.js";
import type { SimulatorWorkerData } from "../pipelines/outreach/simulators-worker.js";
import { DEMO_SEGMENTS } from "../pipelines/outreach/system.js";
import {
  embeddedTransport,
  kafkaTransport,
} from "../pipelines/outreach/transport.js";
import { memoryActionLog } from "../pipelines/outreach/action-log.js";
import { MemoryLog } from "../connectors/memory/log.js";
import {
  firingAt,
  idempotencyKey,
  type DeliveryResult,
} from "../pipelines/outreach/types.js";
import { outreachCodecs } from "../pipelines/outreach/avro.js";
import type { Sink } from "../connectors/types.js";
import type { Endpoints } from "../stack/index.js";
import type { Suite, Workload } from "./harness.js";

const API_KEY = "bench-api-key";
const SEGMENTS = 8;
const PAGE = 1_000;
const SEND_BATCH = 250;
const CONCURRENCY = 4;

interface Simulators {
  readonly urls: { segment: string; jobs: string; outreach: string };
  stats: { sent: number; duplicates: number; pendingResults: number };
  stop(): Promise<void>;
}

function startSimulators(
  data: SimulatorWorkerData,
  onResults: (results: readonly DeliveryResult[]) => void,
): Promise<Simulators> {
  const script = new URL(
    "../pipelines/outreach/simulators-worker.js",
    import.meta.url,
  );
  // Run from the sources (vitest), there is no compiled worker script: the simulators then
  // share this thread, so the heap curve includes their state (the bench runs from dist/).
  if (!existsSync(fileURLToPath(script)))
    return startSimulatorsHere(data, onResults);
  const worker = new Worker(script, { workerData: data });
  return new Promise((resolve, reject) => {
    const sims: {
      urls?: Simulators["urls"];
      stats: Simulators["stats"];
    } = { stats: { sent: 0, duplicates: 0, pendingResults: 0 } };
    worker.once("error", reject);
    worker.on(
      "message",
      (
        m: { type: string; urls?: Simulators["urls"] } & Simulators["stats"],
      ) => {
        if (m.type === "results")
          onResults((m as unknown as { results: DeliveryResult[] }).results);
        if (m.type === "stats")
          sims.stats = {
            sent: m.sent,
            duplicates: m.duplicates,
            pendingResults: m.pendingResults,
          };
        if (m.type === "ready" && m.urls !== undefined)
          resolve({
            urls: m.urls,
            get stats() {
              return sims.stats;
            },
            set stats(s) {
              sims.stats = s;
            },
            stop: async () => {
              worker.postMessage({ type: "stop" });
              await new Promise((r) => worker.once("exit", r));
            },
          });
      },
    );
  });
}

async function startSimulatorsHere(
  data: SimulatorWorkerData,
  onResults: (results: readonly DeliveryResult[]) => void,
): Promise<Simulators> {
  const chaos = { latencyMs: data.latencyMs };
  const segment = await startSegmentServiceSimulator({
    apiKey: data.apiKey,
    segments: data.segments,
    ...chaos,
  });
  const jobs = await startJobServiceSimulator({
    apiKey: data.apiKey,
    segments: data.segments,
    ...chaos,
  });
  const outreach = await startOutreachServiceSimulator({
    apiKey: data.apiKey,
    ...chaos,
    resultDelayMs: 1,
    onResults,
  });
  return {
    urls: { segment: segment.url, jobs: jobs.url, outreach: outreach.url },
    get stats() {
      return {
        sent: outreach.sent,
        duplicates: outreach.duplicates,
        pendingResults: outreach.pendingResults,
      };
    },
    async stop() {
      await outreach.drained();
      await Promise.all([segment.close(), jobs.close(), outreach.close()]);
    },
  };
}

/** One memory sample of the main thread (the pipeline), MB. */
interface Sample {
  readonly t: number;
  readonly rssMb: number;
  readonly heapMb: number;
}

const mb = (b: number): number => Math.round((b / 2 ** 20) * 10) / 10;
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1] ?? 0;
};

/**
 * Outreach fan-out (issue 6): one hourly firing of `jobs` job ids from the job-service
 * simulator through Kafka (pages of 1,000) to the sender (PostgreSQL action log, evaluation,
 * outreach simulator) and the results back through Kafka into the action log, timed from the
 * planner's start to the last result written. Beside it, the simulators' own ceiling measured
 * in the same run: the same calls (job pages, evaluations, sends in batches of 250, four pages
 * at a time) made straight to the simulators with no Kafka, no action log and no results.
 * The simulators run in a worker thread, so the main thread's heap is the pipeline's; its
 * RSS/heap is sampled every 250 ms and the peak is reported beside the steady state.
 */
export function outreachSuite(
  jobs: number,
  env: Endpoints,
  /** Where the memory curves go (`--out`). Default `bench/results`. */
  out: string = join(process.cwd(), "bench", "results"),
): Suite {
  const id = randomBytes(4).toString("hex");
  const schema = `outreach_bench_${id}`;
  const topics = {
    jobs: `outreach-bench-jobs-${id}`,
    results: `outreach-bench-results-${id}`,
    deadLetters: `outreach-bench-dead-letters-${id}`,
  };
  const segments = DEMO_SEGMENTS(jobs, SEGMENTS);
  const ceilingJobs = Math.min(jobs, 200_000);
  let db: PostgresPool | undefined;
  let sims: Simulators | undefined;
  let round = 0;
  const firstHour = Math.floor(Date.now() / 3_600_000) * 3_600_000;
  // The harness always makes at least one warm-up call; here it warms up on a small firing
  // (`WARMUP_JOBS`), so the heavy run happens once.
  const WARMUP_JOBS = Math.min(jobs, 5_000);
  const fanOutCalls = { stack: 0, embedded: 0 };
  let ceilingCalls = 0;
  const memoryNotes = { stack: "", embedded: "" };
  const suiteTransport = kafkaTransport(env.kafkaBrokers, topics);
  // Where the outreach simulator's results go: the suite's Kafka topic, or the in-memory
  // log of the embedded run in progress (runs never overlap).
  interface ResultsTarget {
    readonly sink: Sink<Buffer>;
    close(): Promise<void>;
  }
  let kafkaResults: ResultsTarget | undefined;
  let resultsTarget: ResultsTarget | undefined;
  let resultsWriting: Promise<void> = Promise.resolve();
  const secret = new Secret(API_KEY, "inline");
  const clients = () => {
    if (sims === undefined) throw new Error("simulators not started");
    const e = (baseUrl: string) => ({ baseUrl, apiKey: secret });
    return {
      segments: new SegmentServiceClient(e(sims.urls.segment)),
      jobs: new JobServiceClient(e(sims.urls.jobs)),
      outreach: new OutreachServiceClient(e(sims.urls.outreach)),
    };
  };

  const ceiling: Workload = {
    name: "simulators' ceiling (direct calls)",
    records: ceilingJobs,
    note: "job pages → evaluations → sends, 4 pages at a time, no Kafka/action log",
    run: async () => {
      const c = clients();
      const firing = `ceiling-${round++}`;
      const target = ceilingCalls++ === 0 ? WARMUP_JOBS : ceilingJobs;
      // The job pages are read first (the planner's part), then evaluated and sent.
      const pages: { segmentId: string; ids: readonly string[] }[] = [];
      let read = 0;
      for (const s of segments) {
        for await (const ids of c.jobs.jobIds(s.segmentId, PAGE)) {
          pages.push({ segmentId: s.segmentId, ids });
          read += ids.length;
          if (read >= target) break;
        }
        if (read >= target) break;
      }
      let next = 0;
      const worker = async (): Promise<void> => {
        for (let p = pages[next++]; p !== undefined; p = pages[next++]) {
          const evs = await c.segments.evaluate(p.segmentId, firing, p.ids);
          for (let i = 0; i < evs.length; i += SEND_BATCH)
            await c.outreach.send(
              evs.slice(i, i + SEND_BATCH).map((e) => ({
                idempotencyKey: idempotencyKey(firing, e.jobId, e.actionId),
                to: e.recipientEmail ?? "",
                templateId: e.templateId,
                subject: e.subject,
                metadata: { jobId: e.jobId, actionId: e.actionId },
              })),
            );
        }
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, () => worker()));
    },
  };

  /**
   * The fan-out on Kafka + PostgreSQL (`stack`), or on the embedded default (`embedded`: a
   * fresh in-memory log and action log per run, the simulators' results routed to it).
   */
  const fanOut = (kind: "stack" | "embedded"): Workload => ({
    name:
      kind === "stack"
        ? "outreach fan-out (Kafka + PostgreSQL)"
        : "outreach fan-out (embedded)",
    records: jobs,
    get note() {
      return kind === "stack"
        ? `planner → Kafka → sender (bulk action log, evaluation, sends) → results via Kafka → action log; ${memoryNotes.stack}`
        : `the same jobs on the in-memory log and action log; ${memoryNotes.embedded}`;
    },
    run: async () => {
      if (db === undefined || sims === undefined) throw new Error("not set up");
      const c = clients();
      const r = round++;
      const warmup = fanOutCalls[kind]++ === 0;
      const want = warmup
        ? Math.min(WARMUP_JOBS, segments[0]?.jobs ?? 0)
        : jobs;
      const log = kind === "embedded" ? new MemoryLog() : undefined;
      const t =
        log === undefined ? suiteTransport : embeddedTransport(log, topics);
      if (log !== undefined) {
        await t.setup(8);
        const sink = t.sink(topics.results);
        resultsTarget = { sink, close: () => sink.close() };
      }
      const groups = {
        sender: `outreach-bench-sender-${id}-${r}`,
        results: `outreach-bench-results-${id}-${r}`,
      };
      const actionLog =
        kind === "stack" ? postgresActionLog(db, schema) : memoryActionLog();
      const senderSource = t.source(groups.sender, topics.jobs, 16);
      const resultsSource = t.source(groups.results, topics.results, 5_000);
      const dead = t.sink(topics.deadLetters);
      const jobsSink = t.sink(topics.jobs);
      const senderStats = newSenderStats();
      const resultsStats = newResultsStats();
      const samples: Sample[] = [];
      const started = Date.now();
      const sample = () => {
        const m = process.memoryUsage();
        samples.push({
          t: Date.now() - started,
          rssMb: mb(m.rss),
          heapMb: mb(m.heapUsed),
        });
      };
      const sampler = setInterval(sample, 250);
      const senderDone = runSender({
        jobName: "outreach-sender",
        source: senderSource,
        actionLog,
        evaluation: c.segments,
        outreach: c.outreach,
        deadLetters: dead,
        deadLetterTopic: topics.deadLetters,
        logger: silentLogger,
        stats: senderStats,
        concurrency: CONCURRENCY,
        sendBatch: SEND_BATCH,
      });
      const resultsDone = runResults({
        jobName: "outreach-results",
        source: resultsSource,
        actionLog,
        deadLetters: dead,
        deadLetterTopic: topics.deadLetters,
        logger: silentLogger,
        stats: resultsStats,
        maxBatch: 2_000,
      });
      // Each round is its own firing (an earlier hour), so every round sends every email.
      // Recent hours: the records carry the firing time, and the broker's time-based retention
      // (7 days) deleted the pages of a fixed date in the past in the middle of a run.
      const firing = firingAt("outreach-planner", firstHour - r * 3_600_000);
      // The warm-up call plans only the first segment's first WARMUP_JOBS ids.
      const segmentsFor: Pick<
        SegmentServiceClient,
        "activeSegments" | "setProcessedAt"
      > = warmup
        ? {
            activeSegments: async () =>
              (await c.segments.activeSegments()).slice(0, 1),
            setProcessedAt: (s, at, f) => c.segments.setProcessedAt(s, at, f),
          }
        : c.segments;
      const jobsFor: Pick<JobServiceClient, "jobIds"> = warmup
        ? {
            async *jobIds(segmentId, pageSize) {
              let n = 0;
              for await (const ids of c.jobs.jobIds(segmentId, pageSize)) {
                yield ids;
                n += ids.length;
                if (n >= want) return;
              }
            },
          }
        : c.jobs;
      await runPlannerFiring(firing, {
        segments: segmentsFor,
        jobs: jobsFor,
        sink: jobsSink,
        topic: topics.jobs,
        logger: silentLogger,
        enabled: true,
        pageSize: PAGE,
        segmentConcurrency: 2,
      });
      // Done when every email is sent and every result of this firing is in the action log
      // (the results topic also carries the ceiling runs' results, so count the firing's rows).
      const deadline = Date.now() + 30 * 60_000;
      const stalled = (): void => {
        if (Date.now() > deadline)
          throw new Error(
            `outreach bench stalled: ${JSON.stringify({ senderStats, resultsStats })}`,
          );
      };
      while (senderStats.sent + senderStats.deadLettered < want) {
        stalled();
        await new Promise((res) => setTimeout(res, 100));
      }
      for (;;) {
        const n = await actionLog.counts(firing.id);
        if (n.DELIVERED + n.FAILED + n.DEAD >= want) {
          if (n.DELIVERED !== want)
            throw new Error(
              `expected ${want} delivered, action log has ${JSON.stringify(n)}`,
            );
          break;
        }
        stalled();
        await new Promise((res) => setTimeout(res, 250));
      }
      const seconds = (Date.now() - started) / 1000;
      clearInterval(sampler);
      sample();
      await Promise.all([senderSource.close(), resultsSource.close()]);
      await Promise.all([senderDone, resultsDone]);
      await Promise.all([dead.close(), jobsSink.close()]);
      if (log !== undefined) {
        // Results from now on (the ceiling's) go back to the suite's Kafka topic.
        await resultsWriting;
        const embedded = resultsTarget;
        resultsTarget = kafkaResults;
        await embedded?.close();
      }
      if (!warmup) {
        const heap = samples.map((s) => s.heapMb);
        const rss = samples.map((s) => s.rssMb);
        const steady = samples.slice(Math.floor(samples.length / 4));
        memoryNotes[kind] =
          `main-thread heap peak ${Math.max(...heap)} MB vs steady ${median(steady.map((s) => s.heapMb))} MB, ` +
          `RSS (incl. simulator worker) peak ${Math.max(...rss)} MB vs steady ${median(steady.map((s) => s.rssMb))} MB`;
        mkdirSync(out, { recursive: true });
        writeFileSync(
          join(
            out,
            `outreach-memory-${kind === "stack" ? "" : "embedded-"}${jobs}.json`,
          ),
          JSON.stringify({ jobs, seconds, samples }, null, 1),
        );
      }
      return { seconds };
    },
  });

  return {
    name: `outreach fan-out, ${jobs.toLocaleString("en")} job ids`,
    baseline: ceiling.name,
    workloads: [ceiling, fanOut("embedded"), fanOut("stack")],
    async setup() {
      db = createPostgresPool({ connectionString: env.databaseUrl });
      await migrateActionLog(db, schema);
      await suiteTransport.setup(8);
      // The outreach simulator's results, written to the results topic in order (one write
      // at a time; a failed write is retried, never dropped).
      const sink = suiteTransport.sink(topics.results);
      kafkaResults = { sink, close: () => sink.close() };
      resultsTarget = kafkaResults;
      const codec = outreachCodecs().result;
      sims = await startSimulators(
        { apiKey: API_KEY, segments, latencyMs: 0 },
        (rs) => {
          const batch = rs.map((r) => ({
            key: r.idempotencyKey,
            value: codec.encode(r),
          }));
          resultsWriting = resultsWriting.then(async () => {
            for (;;) {
              try {
                await resultsTarget?.sink.write(batch);
                return;
              } catch {
                await new Promise((r) => setTimeout(r, 100));
              }
            }
          });
        },
      );
    },
    async teardown() {
      await sims?.stop();
      await resultsWriting;
      await kafkaResults?.close();
      await suiteTransport.teardown([]); // deletes the topics, closes its admin client
      if (db !== undefined) {
        await db.pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await db.end();
      }
    },
  };
}
