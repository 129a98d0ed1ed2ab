import { Registry, collectDefaultMetrics } from "prom-client";
import { Subscription } from "rxjs";
import { SluiceError, toSluiceError } from "../operators/sluice-error.js";
import type { CheckpointStore } from "../connectors/checkpoint-store.js";
import type { Sink, Source } from "../connectors/types.js";
import { UNSETTLED_CAUSE } from "../connectors/internal/unsettled.js";
import { CheckpointCoordinator } from "./checkpoint.js";
import { exportConnectors } from "../connectors/metrics.js";
import { outages } from "../connectors/internal/outages.js";
import { ConfigError, loadConfig, redact } from "./config.js";
import type { RuntimeConfig } from "./config.js";
import { startHttpServer } from "./http.js";
import type { HttpServer, Readiness } from "./http.js";
import type { JobStats } from "./job-stats.js";
import type { AddSourceOptions, AnyJob, JobContext } from "./job.js";
import { createLogger } from "./log.js";
import type { Logger, LoggerOptions } from "./log.js";
import { memoryCheckpointStore } from "./memory-checkpoint-store.js";

/** Where the runtime listens for shutdown signals (`process` by default). */
export interface SignalSource {
  on(signal: "SIGTERM" | "SIGINT", listener: () => void): unknown;
  off(signal: "SIGTERM" | "SIGINT", listener: () => void): unknown;
}

/** Options of {@link runJob}. */
export interface RunJobOptions {
  /** YAML/JSON config file. */
  readonly configFile?: string;
  /** Default `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
  /** Overrides `http.port` (`sluice run --port`). */
  readonly port?: number;
  /** Where log lines go. Default standard output. */
  readonly logDestination?: LoggerOptions["destination"];
  /** Default `process`. */
  readonly signals?: SignalSource;
  /** Called for an immediate exit (second signal). Default `process.exit`. */
  readonly exit?: (code: number) => void;
  /** Overrides the store chosen by `checkpoint.store` (tests, embedding). */
  readonly checkpointStore?: CheckpointStore;
  /** Also log and exit non-zero on `uncaughtException`/`unhandledRejection` (the CLI sets it). */
  readonly handleProcessErrors?: boolean;
  /**
   * How often the job's counters are written to `<postgres.schema>.job_stats` for the
   * Pipelines dashboard (runtime/job-stats.ts); only when the config has `postgres`.
   * Default `SLUICE_JOB_STATS_INTERVAL_MS`, else 10 000; 0 turns it off.
   */
  readonly jobStatsIntervalMs?: number;
}

/** A running job. */
export interface JobRun {
  /** Port of `/metrics`, `/healthz`, `/readyz`. */
  readonly port: number;
  readonly logger: Logger;
  /** Resolves with the exit code once the job has stopped: 0 after a clean shutdown or completion. */
  readonly exited: Promise<number>;
  /** Starts the graceful shutdown (as SIGTERM does); resolves with the exit code. */
  shutdown(reason?: string): Promise<number>;
  readiness(): Readiness;
}

interface SourceEntry {
  readonly source: Source<unknown>;
  readonly coordinator: CheckpointCoordinator | undefined;
  owned: number;
  subscription: Subscription;
}

async function openStore(
  runtime: RuntimeConfig,
  closers: (() => Promise<void> | void)[],
): Promise<CheckpointStore> {
  switch (runtime.checkpoint.store) {
    case "memory":
      return memoryCheckpointStore();
    case "postgres": {
      const { createPostgresPool, migratePostgres, postgresCheckpointStore } =
        await import("../connectors/postgres/index.js");
      const pg = runtime.postgres!;
      const db = createPostgresPool({
        connectionString: pg.url.reveal(),
        schema: pg.schema,
      });
      closers.push(() => db.end());
      await migratePostgres(db);
      return postgresCheckpointStore(db);
    }
    case "cassandra": {
      const {
        applyCassandraSchema,
        cassandraCheckpointStore,
        createCassandraClient,
      } = await import("../connectors/cassandra/index.js");
      const c = runtime.cassandra!;
      const db = createCassandraClient({
        contactPoints: c.contactPoints,
        localDataCenter: c.localDc,
        keyspace: c.keyspace,
        ...(c.username !== undefined ? { username: c.username } : {}),
        ...(c.password !== undefined ? { password: c.password.reveal() } : {}),
      });
      closers.push(() => db.close());
      await db.connect();
      await applyCassandraSchema(db);
      return cassandraCheckpointStore(db);
    }
  }
}

const remaining = (deadline: number): number =>
  Math.max(0, deadline - Date.now());

/** Resolves with `p`'s outcome, or `"timeout"` after `ms`. */
async function within<T>(p: Promise<T>, ms: number): Promise<T | "timeout"> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs a job until it completes or is told to stop, and says how it ended.
 *
 * Start: load and validate the config (a {@link ConfigError} ends the run with exit code 2
 * and one JSON log line per problem), log the redacted effective config, open the
 * checkpoint store, serve `/metrics` `/healthz` `/readyz`, call `job.run(ctx)`.
 *
 * Stop, on SIGTERM/SIGINT or `shutdown()`: readiness goes false and `ctx.signal` aborts;
 * intake stops (sources paused); in-flight records drain, bounded by `shutdownTimeoutMs`;
 * each stateful source takes its final checkpoint (skipped, never inconsistent, if the drain
 * did not finish) and commits; sources close, sinks flush and close, `run` is awaited,
 * `onShutdown` hooks run; exit code 0. A second signal exits at once with code 130. An
 * error thrown by `run` (or, with `handleProcessErrors`, an uncaught one) is logged as JSON
 * with the job name and ends the run with exit code 1 after the same shutdown.
 *
 * @example
 * ```ts
 * const run = await runJob(job, { configFile: "config.yaml" });
 * process.exitCode = await run.exited;
 * ```
 */
export async function runJob(
  job: AnyJob,
  options: RunJobOptions = {},
): Promise<JobRun> {
  const bootLogger = createLogger({
    job: job.name,
    ...(options.logDestination !== undefined
      ? { destination: options.logDestination }
      : {}),
  });
  let config: ReturnType<typeof loadConfig<typeof job.config>>;
  try {
    config = loadConfig({
      ...(options.configFile !== undefined ? { file: options.configFile } : {}),
      ...(options.env !== undefined ? { env: options.env } : {}),
      jobSchema: job.config,
    });
  } catch (error) {
    if (error instanceof ConfigError) {
      for (const problem of error.problems)
        bootLogger.fatal("invalid config", { problem });
      return failedRun(bootLogger, 2);
    }
    throw error;
  }
  const runtime = config.runtime;
  const logger = createLogger({
    job: job.name,
    level: runtime.logLevel,
    ...(options.logDestination !== undefined
      ? { destination: options.logDestination }
      : {}),
  });
  logger.info("starting", { config: redact(runtime) });

  const registry = new Registry();
  const exported = exportConnectors(registry);
  registry.setDefaultLabels({ job: job.name });
  collectDefaultMetrics({ register: registry });

  const closers: (() => Promise<void> | void)[] = [];
  let store: CheckpointStore;
  try {
    store = options.checkpointStore ?? (await openStore(runtime, closers));
  } catch (error) {
    logger.fatal("cannot open the checkpoint store", {
      store: runtime.checkpoint.store,
      err: toSluiceError(error, "UNAVAILABLE"),
    });
    for (const close of closers.reverse()) await Promise.resolve(close());
    return failedRun(logger, 1);
  }

  const sources: SourceEntry[] = [];
  const sinks: Sink<unknown>[] = [];
  const hooks: (() => Promise<void> | void)[] = [];
  const abort = new AbortController();
  let markedReady = false;
  let stopping = false;

  const readiness = (): Readiness => {
    if (stopping) return { ready: false, reason: "shutting down" };
    if (!markedReady)
      return { ready: false, reason: "the job has not called ready() yet" };
    const waiting = outages.current()[0];
    if (waiting !== undefined)
      return {
        ready: false,
        reason: `waiting for ${waiting.what} since ${new Date(waiting.since).toISOString()} (${waiting.attempts} attempts, last: ${waiting.lastError})`,
      };
    const idle = sources.find((s) => s.owned === 0);
    if (idle !== undefined)
      return {
        ready: false,
        reason: `source ${idle.source.name} has no partitions assigned`,
      };
    return { ready: true };
  };

  let http: HttpServer;
  try {
    http = await startHttpServer({
      port: options.port ?? runtime.http.port,
      host: runtime.http.host,
      registry,
      readiness,
    });
  } catch (error) {
    logger.fatal("cannot start the HTTP server", {
      port: options.port ?? runtime.http.port,
      err: toSluiceError(error, "CONFIG"),
    });
    for (const close of closers.reverse()) await Promise.resolve(close());
    return failedRun(logger, 1);
  }
  logger.info("serving /metrics /healthz /readyz", { port: http.port });
  const jobStats = await openJobStats(job.name, runtime, registry, logger, {
    intervalMs: jobStatsInterval(options),
    closers,
  });

  const ctx: JobContext<unknown> = {
    name: job.name,
    config: config.job,
    runtime,
    logger,
    metrics: registry,
    signal: abort.signal,
    checkpointStore: store,
    addSource<S extends Source<unknown>>(
      source: S,
      opts: AddSourceOptions = {},
    ): S {
      const coordinator =
        opts.state === undefined
          ? undefined
          : new CheckpointCoordinator({
              job: job.name,
              source,
              backend: opts.state,
              store,
              intervalMs: runtime.checkpoint.intervalMs,
              barrierTimeoutMs: runtime.checkpoint.barrierTimeoutMs,
              logger,
              registry,
              onFatal: (error) => fatal(error),
            });
      // Built before subscribing: a source whose assignments() emits synchronously (the
      // schedule source's `of(...)`) must find its entry.
      const entry: SourceEntry = {
        source,
        coordinator,
        owned: 0,
        subscription: Subscription.EMPTY,
      };
      entry.subscription = source.assignments().subscribe((event) => {
        entry.owned +=
          (event.type === "assigned" ? 1 : -1) * event.partitions.length;
      });
      sources.push(entry);
      exported.source(source);
      if (stopping) {
        // Shutdown began while run() was still setting up (a SIGTERM right after start):
        // stop() has already closed the sources it knew of, so close this one now, or its
        // records() never completes and run() never returns.
        logger.info("source added during shutdown: closing it", {
          source: source.name,
        });
        void source.close().catch((error: unknown) =>
          logger.error(`shutdown: close of ${source.name} failed`, {
            err: toSluiceError(error, "INTERNAL"),
          }),
        );
        return source;
      }
      coordinator?.start();
      return source;
    },
    addSink<S extends Sink<unknown>>(sink: S): S {
      sinks.push(sink);
      exported.sink(sink);
      return sink;
    },
    trackCounters(counters) {
      exported.counters(counters);
    },
    onShutdown(fn) {
      hooks.push(fn);
    },
    async checkpoint() {
      await Promise.all(
        sources.flatMap((s) =>
          s.coordinator === undefined
            ? []
            : [s.coordinator.checkpoint("manual")],
        ),
      );
    },
    ready() {
      if (!markedReady) logger.info("ready");
      markedReady = true;
    },
  };

  let resolveExit: (code: number) => void = () => undefined;
  const exited = new Promise<number>((resolve) => {
    resolveExit = resolve;
  });
  let shuttingDown: Promise<number> | undefined;
  let running: Promise<void> = Promise.resolve();

  const stop = async (reason: string, code: number): Promise<number> => {
    stopping = true;
    abort.abort(new SluiceError("CLOSED", `shutdown: ${reason}`));
    const deadline = Date.now() + runtime.shutdownTimeoutMs;
    logger.info("shutting down", {
      reason,
      shutdownTimeoutMs: runtime.shutdownTimeoutMs,
    });
    let failed = code !== 0;
    const step = async (what: string, fn: () => Promise<unknown>) => {
      try {
        if ((await within(fn(), remaining(deadline))) === "timeout") {
          failed = true;
          logger.error(`shutdown: ${what} timed out`);
        }
      } catch (error) {
        failed = true;
        logger.error(`shutdown: ${what} failed`, {
          err: toSluiceError(error, "INTERNAL"),
        });
      }
    };
    for (const s of sources) {
      if (s.coordinator !== undefined) s.coordinator.stopIntake();
      else s.source.pause();
    }
    const drained = await waitDrained(sources, deadline);
    if (!drained) reportUnsettledAtShutdown(logger, sources, reason);
    for (const s of sources) {
      if (s.coordinator === undefined) continue;
      await step(`final checkpoint of ${s.source.name}`, async () => {
        const r = await s.coordinator!.checkpoint("shutdown");
        if (r.skipped === "store-failed") failed = true;
      });
    }
    for (const s of sources)
      await step(`commit of ${s.source.name}`, () => s.source.commit());
    for (const s of sources)
      await step(`close of ${s.source.name}`, () => s.source.close());
    for (const s of sources) {
      s.coordinator?.close();
      s.subscription.unsubscribe();
    }
    const closedSinks = new Set<Sink<unknown>>();
    const closeSinks = async (): Promise<void> => {
      for (const sink of sinks) {
        if (closedSinks.has(sink)) continue;
        closedSinks.add(sink);
        await step(`flush of ${sink.name}`, () => sink.flush());
        await step(`close of ${sink.name}`, () => sink.close());
      }
    };
    await closeSinks();
    await step("the job's run()", () => running);
    // Sinks run() added after shutdown began (it was still setting up).
    await closeSinks();
    if (jobStats !== undefined)
      await step("the last job stats snapshot", () => jobStats.stop());
    for (const fn of hooks) await step("an onShutdown hook", async () => fn());
    for (const close of closers.reverse())
      await step("the checkpoint store", async () => close());
    await http.close();
    const exitCode = failed ? Math.max(code, 1) : 0;
    logger.info("stopped", { exitCode });
    detach();
    resolveExit(exitCode);
    return exitCode;
  };
  const shutdown = (reason = "requested", code = 0): Promise<number> =>
    (shuttingDown ??= stop(reason, code));

  const fatal = (error: SluiceError): void => {
    logger.fatal("job failed", { err: error });
    void shutdown("job failed", 1);
  };

  // A dependency that went away and came back (connectors/internal/retry.ts waits it out).
  const stopOutageLog = outages.subscribe((event) => {
    const { what, since, attempts, lastError } = event.outage;
    if (event.type === "down")
      logger.warn("waiting for a dependency: not ready until it answers", {
        what,
        err: lastError,
      });
    else if (event.type === "up")
      logger.info("dependency answers again", {
        what,
        downMs: Date.now() - since,
        attempts,
      });
    else
      logger.error("gave up waiting for a dependency", {
        what,
        downMs: Date.now() - since,
        attempts,
        err: lastError,
      });
  });

  const signals = options.signals ?? process;
  const exitNow = options.exit ?? ((code: number) => process.exit(code));
  let signalled = 0;
  const onSignal = (signal: "SIGTERM" | "SIGINT") => () => {
    signalled += 1;
    if (signalled === 1) {
      void shutdown(signal);
      return;
    }
    logger.fatal(`second ${signal}: exiting now without draining`);
    exitNow(130);
  };
  const onTerm = onSignal("SIGTERM");
  const onInt = onSignal("SIGINT");
  signals.on("SIGTERM", onTerm);
  signals.on("SIGINT", onInt);
  const onUncaught = (error: unknown): void =>
    fatal(toSluiceError(error, "INTERNAL"));
  if (options.handleProcessErrors === true) {
    process.on("uncaughtException", onUncaught);
    process.on("unhandledRejection", onUncaught);
  }
  const detach = (): void => {
    stopOutageLog();
    signals.off("SIGTERM", onTerm);
    signals.off("SIGINT", onInt);
    if (options.handleProcessErrors === true) {
      process.off("uncaughtException", onUncaught);
      process.off("unhandledRejection", onUncaught);
    }
  };

  running = (async () => job.run(ctx))().then(
    () => {
      if (!stopping) void shutdown("completed", 0);
    },
    (error: unknown) => {
      fatal(toSluiceError(error, "PROCESS"));
    },
  );

  return {
    port: http.port,
    logger,
    exited,
    shutdown: (reason) => shutdown(reason),
    readiness,
  };
}

function jobStatsInterval(options: RunJobOptions): number {
  if (options.jobStatsIntervalMs !== undefined)
    return options.jobStatsIntervalMs;
  const v = (options.env ?? process.env)["SLUICE_JOB_STATS_INTERVAL_MS"];
  const n = v === undefined || v === "" ? 10_000 : Number(v);
  return Number.isFinite(n) && n >= 0 ? n : 10_000;
}

/** Starts the job stats snapshots when the config has `postgres`; a failure only turns them off. */
async function openJobStats(
  job: string,
  runtime: RuntimeConfig,
  registry: Registry,
  logger: Logger,
  o: {
    readonly intervalMs: number;
    readonly closers: (() => Promise<void> | void)[];
  },
): Promise<JobStats | undefined> {
  const pg = runtime.postgres;
  if (pg === undefined || o.intervalMs <= 0) return undefined;
  const { createPostgresPool } =
    await import("../connectors/postgres/index.js");
  const { migrateJobStats, startJobStats } = await import("./job-stats.js");
  const db = createPostgresPool({
    connectionString: pg.url.reveal(),
    schema: pg.schema,
    poolMax: 1,
    applicationName: "sluice-job-stats",
  });
  o.closers.push(() => db.end());
  try {
    await migrateJobStats(db, pg.schema);
  } catch (error) {
    logger.warn("job stats off: cannot create the job_stats table", {
      schema: pg.schema,
      err: toSluiceError(error, "UNAVAILABLE"),
    });
    return undefined;
  }
  logger.info("writing job stats", {
    table: `${pg.schema}.job_stats`,
    intervalMs: o.intervalMs,
  });
  return startJobStats({
    db,
    schema: pg.schema,
    job,
    registry,
    intervalMs: o.intervalMs,
    logger,
  });
}

/**
 * The drain of a shutdown timed out: says which sources still hold records and where their
 * commit stays, loudly. After `run()` returned ("completed") the pipeline is gone, so
 * nothing will ever settle them: most likely an operator dropped records without acking.
 */
function reportUnsettledAtShutdown(
  logger: Logger,
  sources: readonly SourceEntry[],
  reason: string,
): void {
  const held = sources
    .filter((s) => s.source.inFlight > 0)
    .map((s) => ({
      source: s.source.name,
      inFlight: s.source.inFlight,
      // Each partition's commit point: the oldest unsettled record is at or above it.
      commitPoints: s.source
        .snapshot()
        .map((p) => `${p.topic}/${p.partition}@${p.committed ?? "none"}`),
    }));
  const inFlight = held.reduce((n, s) => n + s.inFlight, 0);
  if (reason === "completed")
    logger.error(
      `the job's run() returned with ${inFlight} records never settled: the commit stays below them and they will be delivered again`,
      { inFlight, sources: held, likelyCause: UNSETTLED_CAUSE },
    );
  else
    logger.error("shutdown: in-flight records did not settle in time", {
      inFlight,
      sources: held,
      likelyCause:
        "a slow sink, or an operator holding records (a window, a retry) or dropping them without acking (use filterAck, flatMapAck, route)",
    });
}

async function waitDrained(
  sources: readonly SourceEntry[],
  deadline: number,
): Promise<boolean> {
  for (;;) {
    if (sources.every((s) => s.source.inFlight === 0)) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 5));
  }
}

function failedRun(logger: Logger, code: number): JobRun {
  return {
    port: 0,
    logger,
    exited: Promise.resolve(code),
    shutdown: () => Promise.resolve(code),
    readiness: () => ({ ready: false, reason: "the job did not start" }),
  };
}
