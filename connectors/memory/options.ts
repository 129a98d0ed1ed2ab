import { asyncScheduler } from "rxjs";
import type { SchedulerLike } from "rxjs";
import { z } from "zod";
import { SluiceError } from "../../operators/sluice-error.js";
import {
  resolveSourceOptions,
  sourceOptionsShape,
} from "../internal/source-options.js";
import type {
  ResolvedSourceOptions,
  SourceOptions,
} from "../internal/source-options.js";

/**
 * Options of {@link memorySource}; every time is in milliseconds. Flow control, redelivery
 * and commits are the shared {@link SourceOptions} (default name `memory:<group>`).
 */
export interface MemorySourceOptions extends SourceOptions {
  /** Consumer group: committed offsets and partition assignment are per group. */
  readonly group: string;
  /** Topics to consume; each must exist in the log. */
  readonly topics: readonly string[];
  /** Client id, part of the member id. Default `"member"`. */
  readonly clientId?: string;
  /** Records emitted per scheduled pump before yielding to the scheduler. Default 500. */
  readonly fetchMaxRecords?: number;
  /** Complete the stream once every assigned partition is read up to its end offset at assignment time. Default false (tail forever). */
  readonly stopAtEnd?: boolean;
  /** Scheduler for pumps, commit timer, backoff and drain timeouts. Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
}

/** {@link MemorySourceOptions} with every default applied: what the source runs on. */
export interface ResolvedMemorySourceOptions extends ResolvedSourceOptions {
  readonly group: string;
  readonly topics: readonly string[];
  readonly clientId: string;
  readonly fetchMaxRecords: number;
  readonly stopAtEnd: boolean;
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

const sourceSchema = z
  .object({
    ...sourceOptionsShape,
    group: z.string().min(1),
    topics: z.array(z.string().min(1)).min(1),
    clientId: z.string().min(1).optional(),
    fetchMaxRecords: positiveInt.optional(),
    stopAtEnd: z.boolean().optional(),
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
  return {
    ...resolveSourceOptions(o, "memory.source", `memory:${o.group}`),
    group: o.group,
    topics: o.topics,
    clientId: o.clientId ?? "member",
    fetchMaxRecords: o.fetchMaxRecords ?? 500,
    stopAtEnd: o.stopAtEnd ?? false,
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
