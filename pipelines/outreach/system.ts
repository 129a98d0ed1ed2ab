/**
 * The whole outreach system in one process, on a transport (embedded log or Kafka) and an
 * action log (memory or PostgreSQL), with the three simulators: what the demo, the tests and
 * the benchmark run. The deployed jobs (`jobs/`) run the same functions one per process.
 */
import { BadRecordCounters } from "../../operators/dead-letter.js";
import type { Source } from "../../connectors/types.js";
import { Secret } from "../../runtime/config.js";
import { silentLogger, type Logger } from "../../runtime/log.js";
import type { ActionCounts, ActionLog } from "./action-log.js";
import { outreachCodecs } from "./avro.js";
import {
  JobServiceClient,
  OutreachServiceClient,
  SegmentServiceClient,
} from "./clients.js";
import type { RetryPolicy } from "./http.js";
import { runPlannerFiring, type PlannerReport } from "./planner.js";
import { newResultsStats, runResults, type ResultsStats } from "./results.js";
import {
  newSenderStats,
  runSender,
  type SenderDeps,
  type SenderStats,
} from "./sender.js";
import {
  startJobServiceSimulator,
  startOutreachServiceSimulator,
  startSegmentServiceSimulator,
  type OutreachSimulator,
  type SegmentSimulator,
  type SimulatedSegment,
} from "./simulators.js";
import type { SimulatorServer } from "./http.js";
import type { OutreachTransport } from "./transport.js";
import type { Firing } from "./types.js";

/** Options of {@link startOutreachSystem}. */
export interface OutreachSystemOptions {
  readonly transport: OutreachTransport;
  readonly actionLog: ActionLog;
  readonly segments: readonly SimulatedSegment[];
  readonly partitions?: number;
  /** Consumer group prefix (unique per test run on Kafka). */
  readonly groupPrefix?: string;
  readonly enabled?: boolean;
  readonly pageSize?: number;
  readonly senderConcurrency?: number;
  readonly sendBatch?: number;
  /** Simulator chaos. */
  readonly latencyMs?: number;
  readonly failureRate?: number;
  readonly lostAnswerRate?: number;
  readonly deliveryFailureRate?: number;
  readonly missingEmailEvery?: number;
  readonly unknownTemplateEvery?: number;
  readonly retry?: RetryPolicy;
  /** Retry policy of the outreach calls only (default `retry`). */
  readonly outreachRetry?: RetryPolicy;
  readonly logger?: Logger;
  readonly apiKey?: string;
  /** The key the clients send (default: `apiKey`); tests pass one parsed from a secret file. */
  readonly clientApiKey?: Secret;
  /** Wraps the sender's outreach client (tests inject a crash). */
  readonly wrapOutreach?: (c: SenderDeps["outreach"]) => SenderDeps["outreach"];
  readonly onPlannedPage?: (jobIds: number) => void;
}

/** A running outreach system. */
export interface OutreachSystem {
  readonly segmentService: SegmentSimulator;
  readonly jobService: SimulatorServer;
  readonly outreachService: OutreachSimulator;
  readonly senderStats: SenderStats;
  /** The sender's dead letters by reason code, as `sluice run outreach-sender` exports them. */
  readonly senderBadRecords: BadRecordCounters;
  readonly resultsStats: ResultsStats;
  readonly actionLog: ActionLog;
  /** One planner firing (the hourly run). */
  plan(firing: Firing): Promise<PlannerReport>;
  /** Starts the sender (again, after a crash). */
  startSender(): void;
  /** Kills the sender like a dead process: no drain, no commit. */
  crashSender(): Promise<void>;
  /**
   * Waits until the firing is settled: `expected` emails logged, none PLANNED or SENT, the
   * outreach simulator has handed over every result, and the jobs topic is fully consumed.
   */
  settled(
    firingId: string,
    expected: number,
    timeoutMs?: number,
  ): Promise<ActionCounts>;
  /** Dead letters on the dead-letter topic. */
  deadLetters(): Promise<number>;
  close(): Promise<void>;
}

export const DEMO_SEGMENTS = (jobs: number, segments = 4): SimulatedSegment[] =>
  Array.from({ length: segments }, (_, i) => ({
    segmentId: `seg-${i + 1}`,
    scheduleId: `schedule-${(i % 2) + 1}`,
    jobs: Math.floor(jobs / segments) + (i < jobs % segments ? 1 : 0),
  }));

/**
 * Starts the simulators, the results job and the sender on `transport`; `plan(firing)` runs
 * the planner.
 *
 * @example
 * ```ts
 * const sys = await startOutreachSystem({ transport: embeddedTransport(new MemoryLog(), DEFAULT_TOPICS), actionLog: memoryActionLog(), segments: DEMO_SEGMENTS(1000) });
 * await sys.plan(firing);
 * await sys.settled(firing.id, 1000);
 * await sys.close();
 * ```
 */
export async function startOutreachSystem(
  o: OutreachSystemOptions,
): Promise<OutreachSystem> {
  const t = o.transport;
  const logger = o.logger ?? silentLogger;
  const apiKey = o.apiKey ?? "sim-api-key";
  const secret = o.clientApiKey ?? new Secret(apiKey, "inline");
  const groups = {
    sender: `${o.groupPrefix ?? "outreach"}-sender`,
    results: `${o.groupPrefix ?? "outreach"}-results`,
  };
  await t.setup(o.partitions ?? 4);
  const chaos = {
    latencyMs: o.latencyMs ?? 0,
    failureRate: o.failureRate ?? 0,
  };
  const resultsSink = t.sink(t.topics.results);
  const codec = outreachCodecs().result;
  const segmentService = await startSegmentServiceSimulator({
    apiKey,
    segments: o.segments,
    ...chaos,
    ...(o.missingEmailEvery === undefined
      ? {}
      : { missingEmailEvery: o.missingEmailEvery }),
    ...(o.unknownTemplateEvery === undefined
      ? {}
      : { unknownTemplateEvery: o.unknownTemplateEvery }),
  });
  const jobService = await startJobServiceSimulator({
    apiKey,
    segments: o.segments,
    ...chaos,
  });
  const outreachService = await startOutreachServiceSimulator({
    apiKey,
    ...chaos,
    lostAnswerRate: o.lostAnswerRate ?? 0,
    deliveryFailureRate: o.deliveryFailureRate ?? 0,
    onResults: (rs) =>
      resultsSink.write(
        rs.map((r) => ({ key: r.idempotencyKey, value: codec.encode(r) })),
      ),
  });
  const endpoint = (baseUrl: string) => ({
    baseUrl,
    apiKey: secret,
    ...(o.retry === undefined ? {} : { retry: o.retry }),
  });
  const segments = new SegmentServiceClient(endpoint(segmentService.url));
  const jobs = new JobServiceClient(endpoint(jobService.url));
  const outreachClient = new OutreachServiceClient(
    endpoint(outreachService.url),
  );
  const outreach = o.wrapOutreach?.(outreachClient) ?? outreachClient;
  const jobsSink = t.sink(t.topics.jobs);
  const deadSink = t.sink(t.topics.deadLetters);
  const senderStats = newSenderStats();
  const senderBadRecords = new BadRecordCounters();
  const resultsStats = newResultsStats();

  const resultsSource = t.source(groups.results, t.topics.results, 5_000);
  const resultsDone = runResults({
    jobName: "outreach-results",
    source: resultsSource,
    actionLog: o.actionLog,
    deadLetters: deadSink,
    deadLetterTopic: t.topics.deadLetters,
    logger,
    stats: resultsStats,
    maxBatch: 1_000,
  }).catch((e: unknown) => {
    logger.error("results job failed", { err: e });
    return 0;
  });

  let senderSource: Source<Buffer> | undefined;
  let senderDone: Promise<unknown> = Promise.resolve();
  const crashed: Source<Buffer>[] = [];
  const startSender = (): void => {
    const source = t.source(groups.sender, t.topics.jobs, 16);
    senderSource = source;
    senderDone = runSender({
      jobName: "outreach-sender",
      source,
      actionLog: o.actionLog,
      evaluation: segments,
      outreach,
      deadLetters: deadSink,
      deadLetterTopic: t.topics.deadLetters,
      logger,
      stats: senderStats,
      badRecords: senderBadRecords,
      concurrency: o.senderConcurrency ?? 4,
      sendBatch: o.sendBatch ?? 250,
    }).catch((e: unknown) => {
      if (!crashed.includes(source)) logger.error("sender failed", { err: e });
      return 0;
    });
  };
  startSender();

  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  return {
    segmentService,
    jobService,
    outreachService,
    senderStats,
    senderBadRecords,
    resultsStats,
    actionLog: o.actionLog,
    plan: (firing) =>
      runPlannerFiring(firing, {
        segments,
        jobs,
        sink: jobsSink,
        topic: t.topics.jobs,
        logger,
        enabled: o.enabled ?? true,
        pageSize: o.pageSize ?? 1_000,
        segmentConcurrency: 2,
        ...(o.onPlannedPage === undefined ? {} : { onPage: o.onPlannedPage }),
      }),
    startSender,
    async crashSender() {
      if (senderSource === undefined) return;
      crashed.push(senderSource);
      await t.crash(senderSource);
      senderSource = undefined;
    },
    async settled(firingId, expected, timeoutMs = 120_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const c = await o.actionLog.counts(firingId);
        const total = c.PLANNED + c.SENT + c.DELIVERED + c.FAILED + c.DEAD;
        if (
          total >= expected &&
          c.PLANNED === 0 &&
          c.SENT === 0 &&
          outreachService.pendingResults === 0 &&
          (senderSource?.inFlight ?? 0) === 0
        )
          return c;
        if (Date.now() > deadline)
          throw new Error(
            `outreach firing ${firingId} did not settle in ${timeoutMs} ms: ${JSON.stringify(c)} of ${expected}, sender ${JSON.stringify(senderStats)}`,
          );
        await sleep(50);
      }
    },
    deadLetters: () => t.count(t.topics.deadLetters),
    async close() {
      await outreachService.drained();
      await Promise.allSettled([senderSource?.close(), resultsSource.close()]);
      await Promise.allSettled([senderDone, resultsDone]);
      for (const s of [jobsSink, deadSink, resultsSink])
        await s.close().catch(() => undefined);
      await Promise.all([
        segmentService.close(),
        jobService.close(),
        outreachService.close(),
      ]);
      await t.teardown([groups.sender, groups.results]);
    },
  };
}
