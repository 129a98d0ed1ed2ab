import type { Registry } from "prom-client";
import type { z } from "zod";
import type { StateBackend } from "../operators/state-backend.js";
import type { BadRecordCounters } from "../operators/dead-letter.js";
import type { DedupeCounters } from "../operators/dedupe.js";
import type { CheckpointStore } from "../connectors/checkpoint-store.js";
import type { Sink, Source } from "../connectors/types.js";
import type { RuntimeConfig } from "./config.js";
import type { Logger } from "./log.js";

/** Operator counters a job exports with {@link JobContext.trackCounters}. */
export interface TrackedCounters {
  readonly dedupe?: readonly {
    readonly name: string;
    readonly counters: DedupeCounters;
  }[];
  readonly deadLetters?: readonly {
    readonly name: string;
    readonly counters: BadRecordCounters;
  }[];
}

/** Options of {@link JobContext.addSource}. */
export interface AddSourceOptions {
  /**
   * The keyed state this source feeds (the `backend` of its `keyedProcess`). With it, the
   * runtime checkpoints state and offsets together and restores both on assignment.
   */
  readonly state?: StateBackend;
}

/**
 * What a job's `run` gets from the runtime.
 *
 * Register every source and sink: on SIGTERM the runtime pauses the sources, waits for
 * in-flight records (bounded by `shutdownTimeoutMs`), takes the final checkpoint, commits,
 * closes the sources, flushes and closes the sinks, then waits for `run` to return.
 */
export interface JobContext<C> {
  /** The job's name (`defineJob({ name })`). */
  readonly name: string;
  /** The `job` section of the config, parsed by the job's schema. */
  readonly config: C;
  /** The runtime's part of the config: connections (`kafka.brokers`, `postgres.url`, …), secrets. */
  readonly runtime: RuntimeConfig;
  /** Structured JSON logger, with the job name on every line. */
  readonly logger: Logger;
  /** The registry `/metrics` serves: register the job's metrics here. */
  readonly metrics: Registry;
  /** Aborted when shutdown starts: stop starting new work. */
  readonly signal: AbortSignal;
  /** Where checkpoints go (`checkpoint.store` in the config). */
  readonly checkpointStore: CheckpointStore;
  /**
   * Registers a source, before subscribing to its `records()`. With `state`, its partitions
   * are restored from the last checkpoint on assignment and checkpointed every
   * `checkpoint.intervalMs`, on revoke and on shutdown.
   */
  addSource<S extends Source<unknown>>(
    source: S,
    options?: AddSourceOptions,
  ): S;
  /** Registers a sink: flushed and closed on shutdown, after the sources. */
  addSink<S extends Sink<unknown>>(sink: S): S;
  /** Runs `fn` at the end of shutdown (close pools and clients the job opened). */
  onShutdown(fn: () => Promise<void> | void): void;
  /** Takes a checkpoint of every source registered with state now. */
  checkpoint(): Promise<void>;
  /** Marks the job ready: `/readyz` answers 200 once every source also has partitions. */
  ready(): void;
  /**
   * Exports operator counters on `/metrics` (and so on the Pipelines dashboard): dedupe hits
   * and misses (`sluice_dedupe_total`) and bad records by fate and code
   * (`sluice_bad_records_total`). Sources and sinks registered with `addSource`/`addSink` are
   * exported without this (records in/out, consumer lag, errors).
   */
  trackCounters(counters: TrackedCounters): void;
}

/**
 * A job: a name, the schema of its `job` config section and a `run` that builds the pipeline
 * and resolves when it is done (the sources closed by shutdown, or a bounded input exhausted).
 * Build one with {@link defineJob}.
 */
export interface JobDefinition<S extends z.ZodType> {
  readonly kind: "sluice.job";
  readonly name: string;
  readonly description?: string;
  /** Schema of the `job` section of the config. */
  readonly config: S;
  run(ctx: JobContext<z.output<S>>): Promise<void>;
}

/** A job of any config type, as the runtime runs it. */
export type AnyJob = JobDefinition<z.ZodType>;

/**
 * Defines a job that `sluice run` (or {@link runJob}) can run.
 *
 * @example
 * ```ts
 * export default defineJob({
 *   name: "keyed-count",
 *   config: z.object({ topic: z.string().default("events") }),
 *   async run(ctx) {
 *     const state = memoryStateBackend();
 *     const source = ctx.addSource(memorySource<number>(log, { group: ctx.name, topics: [ctx.config.topic] }), { state });
 *     const counted = new Counter({ name: "counted_total", help: "Records counted.", registers: [ctx.metrics] });
 *     const done = lastValueFrom(
 *       source.records().pipe(
 *         keyedProcess({ backend: state, process: (r, k) => { const c = k.state(COUNT); c.update((c.value() ?? 0) + 1); counted.inc(); } }),
 *       ),
 *       { defaultValue: undefined },
 *     );
 *     ctx.ready();
 *     await done; // completes when shutdown closes the source
 *   },
 * });
 * ```
 */
export function defineJob<S extends z.ZodType>(definition: {
  readonly name: string;
  readonly description?: string;
  readonly config: S;
  run(ctx: JobContext<z.output<S>>): Promise<void>;
}): JobDefinition<S> {
  if (!/^[a-z][a-z0-9-]*$/.test(definition.name))
    throw new TypeError(
      `defineJob: name must be kebab-case (a-z, 0-9, -), got "${definition.name}"`,
    );
  return { kind: "sluice.job", ...definition };
}

/**
 * True for a value made by {@link defineJob} (how `sluice run` finds the job in a module).
 *
 * @example
 * ```ts
 * const job = Object.values(await import(path)).find(isJobDefinition);
 * ```
 */
export function isJobDefinition(value: unknown): value is AnyJob {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as { kind?: unknown }).kind === "sluice.job" &&
    typeof (value as { run?: unknown }).run === "function"
  );
}
