import { asyncScheduler } from "rxjs";
import type { SchedulerLike } from "rxjs";
import { z } from "zod";
import { SluiceError } from "../../operators/sluice-error.js";

/** Options of {@link memorySource}; every time is in milliseconds. */
export interface MemorySourceOptions {
  /** Consumer group: committed offsets and partition assignment are per group. */
  readonly group: string;
  /** Topics to consume; each must exist in the log. */
  readonly topics: readonly string[];
  /** Name of the source in logs and errors. Default `memory:<group>`. */
  readonly name?: string;
  /** Client id, part of the member id. Default `"member"`. */
  readonly clientId?: string;
  /** Intake pauses when this many emitted records are unsettled. Default 1000. */
  readonly maxInFlight?: number;
  /** Intake resumes when unsettled records drop to this many. Default `floor(maxInFlight / 2)`. */
  readonly lowWatermark?: number;
  /**
   * Intake of one partition pauses when this many of its records are unsettled, and resumes
   * at half. Default: `maxInFlight`. Set it below `maxInFlight` for event-time jobs: a
   * partition running ahead in event time then waits instead of filling the shared cap, so
   * the partition holding the watermark back can still be read (watermark alignment).
   */
  readonly maxInFlightPerPartition?: number;
  /** Records emitted per scheduled pump before yielding to the scheduler. Default 500. */
  readonly fetchMaxRecords?: number;
  /** Commit the trackers' commit points this often; 0 commits only on commit(), revoke and close. Default 1000. */
  readonly commitIntervalMs?: number;
  /** Delay before a nacked record is emitted again. Default 0. */
  readonly nackBackoffMs?: number;
  /** How long revoke and close wait for in-flight records to settle before committing what is done. Default 5000. */
  readonly drainTimeoutMs?: number;
  /** Complete the stream once every assigned partition is read up to its end offset at assignment time. Default false (tail forever). */
  readonly stopAtEnd?: boolean;
  /** Where a group with no commit starts: `"earliest"` or `"latest"`. Default `"earliest"`. */
  readonly startFrom?: "earliest" | "latest";
  /** Scheduler for pumps, commit timer, backoff and drain timeouts. Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
}

/** {@link MemorySourceOptions} with every default applied: what the source runs on. */
export interface ResolvedMemorySourceOptions {
  readonly group: string;
  readonly topics: readonly string[];
  readonly name: string;
  readonly clientId: string;
  readonly maxInFlight: number;
  readonly lowWatermark: number;
  readonly maxInFlightPerPartition: number;
  readonly fetchMaxRecords: number;
  readonly commitIntervalMs: number;
  readonly nackBackoffMs: number;
  readonly drainTimeoutMs: number;
  readonly stopAtEnd: boolean;
  readonly startFrom: "earliest" | "latest";
  readonly scheduler: SchedulerLike;
}

/** Options of {@link memorySink}. */
export interface MemorySinkOptions {
  /** Topic for records that name none. */
  readonly topic?: string;
  /** Name of the sink in logs and errors. Default `memory:<topic>` or `memory`. */
  readonly name?: string;
  /** Batches a caller may have in flight. Default 1. */
  readonly maxInFlight?: number;
}

/** {@link MemorySinkOptions} with defaults applied. */
export interface ResolvedMemorySinkOptions {
  readonly topic: string | undefined;
  readonly name: string;
  readonly maxInFlight: number;
}

const scheduler = z.custom<SchedulerLike>(
  (v) =>
    typeof v === "object" &&
    v !== null &&
    typeof (v as { schedule?: unknown }).schedule === "function" &&
    typeof (v as { now?: unknown }).now === "function",
  { message: "must be an RxJS SchedulerLike" },
);
const positiveInt = z.number().int().min(1);
const nonNegative = z.number().min(0);

const sourceSchema = z
  .object({
    group: z.string().min(1),
    topics: z.array(z.string().min(1)).min(1),
    name: z.string().min(1).optional(),
    clientId: z.string().min(1).optional(),
    maxInFlight: positiveInt.optional(),
    lowWatermark: z.number().int().min(0).optional(),
    maxInFlightPerPartition: positiveInt.optional(),
    fetchMaxRecords: positiveInt.optional(),
    commitIntervalMs: nonNegative.optional(),
    nackBackoffMs: nonNegative.optional(),
    drainTimeoutMs: nonNegative.optional(),
    stopAtEnd: z.boolean().optional(),
    startFrom: z.enum(["earliest", "latest"]).optional(),
    scheduler: scheduler.optional(),
  })
  .strict();

const sinkSchema = z
  .object({
    topic: z.string().min(1).optional(),
    name: z.string().min(1).optional(),
    maxInFlight: positiveInt.optional(),
  })
  .strict();

function configError(prefix: string, error: z.ZodError): SluiceError {
  const issue = error.issues[0];
  const field = issue === undefined ? "" : issue.path.map(String).join(".");
  const message = issue === undefined ? "invalid options" : issue.message;
  return new SluiceError(
    "CONFIG",
    `${prefix}${field === "" ? "" : `.${field}`}: ${message}`,
    { context: { field } },
  );
}

/**
 * Validates and defaults memory source options once; a bad option throws a `CONFIG`
 * {@link SluiceError} naming the field.
 *
 * @example
 * ```ts
 * resolveMemorySourceOptions({ group: "g", topics: ["t"], maxInFlight: 0 });
 * // throws: memory.source.maxInFlight: Too small: expected number to be >=1
 * ```
 */
export function resolveMemorySourceOptions(
  options: MemorySourceOptions,
): ResolvedMemorySourceOptions {
  const parsed = sourceSchema.safeParse(options);
  if (!parsed.success) throw configError("memory.source", parsed.error);
  const o = parsed.data;
  const maxInFlight = o.maxInFlight ?? 1000;
  const lowWatermark = o.lowWatermark ?? Math.floor(maxInFlight / 2);
  if (lowWatermark >= maxInFlight) {
    throw new SluiceError(
      "CONFIG",
      `memory.source.lowWatermark must be less than maxInFlight (${lowWatermark} >= ${maxInFlight})`,
      {
        context: { field: "lowWatermark" },
      },
    );
  }
  return {
    group: o.group,
    topics: o.topics,
    name: o.name ?? `memory:${o.group}`,
    clientId: o.clientId ?? "member",
    maxInFlight,
    lowWatermark,
    maxInFlightPerPartition: Math.min(
      o.maxInFlightPerPartition ?? maxInFlight,
      maxInFlight,
    ),
    fetchMaxRecords: o.fetchMaxRecords ?? 500,
    commitIntervalMs: o.commitIntervalMs ?? 1000,
    nackBackoffMs: o.nackBackoffMs ?? 0,
    drainTimeoutMs: o.drainTimeoutMs ?? 5000,
    stopAtEnd: o.stopAtEnd ?? false,
    startFrom: o.startFrom ?? "earliest",
    scheduler: o.scheduler ?? asyncScheduler,
  };
}

/**
 * Validates and defaults memory sink options once.
 *
 * @example
 * ```ts
 * resolveMemorySinkOptions({ topic: "orders" }); // { topic: "orders", name: "memory:orders", maxInFlight: 1 }
 * ```
 */
export function resolveMemorySinkOptions(
  options: MemorySinkOptions,
): ResolvedMemorySinkOptions {
  const parsed = sinkSchema.safeParse(options);
  if (!parsed.success) throw configError("memory.sink", parsed.error);
  const o = parsed.data;
  return {
    topic: o.topic,
    name: o.name ?? (o.topic === undefined ? "memory" : `memory:${o.topic}`),
    maxInFlight: o.maxInFlight ?? 1,
  };
}
