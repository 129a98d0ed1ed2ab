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
import { DEFAULT_OUTAGE_DEADLINE_MS } from "../internal/retry.js";
import type { KafkaClientKind } from "./client.js";

/** What to do with bytes the source's `decode` rejects. */
export type DecodeErrorPolicy = "dead-letter" | "skip" | "fail";

/** Connection options shared by source, sink and admin; every time is in milliseconds. */
export interface KafkaConnectionOptions {
  /** Bootstrap brokers, `host:port`. */
  readonly brokers: readonly string[];
  /** Which driver runs underneath. Default `"kafkajs"`. */
  readonly client?: KafkaClientKind;
  /** Client id sent to the brokers. Default `"sluice"`. */
  readonly clientId?: string;
  /** Default 5000. */
  readonly connectionTimeoutMs?: number;
  /** Default 30000. */
  readonly requestTimeoutMs?: number;
  /** Driver log output. Default `"error"`. */
  readonly logLevel?: "nothing" | "error" | "warn" | "info" | "debug";
  /**
   * How long the brokers may stay unreachable (a restart, a coordinator moving or loading)
   * before a call gives up: admin calls, sink writes and the consumer's rejoin after a
   * crash are retried with backoff until then, and readiness is false meanwhile. Default
   * 60000.
   */
  readonly outageDeadlineMs?: number;
}

/**
 * Options of {@link kafkaSource}. Flow control (`maxInFlight`, `lowWatermark`,
 * `maxInFlightPerPartition`), redelivery and commits are the shared {@link SourceOptions}
 * (default name `kafka:<group>`); intake pauses by client pause.
 */
export interface KafkaSourceOptions<T>
  extends KafkaConnectionOptions, SourceOptions {
  readonly group: string;
  readonly topics: readonly string[];
  /** Turns a record's value bytes into `T`; a throw is a decode error (see `onDecodeError`). */
  readonly decode: (bytes: Buffer) => T;
  /** Default `"dead-letter"`. */
  readonly onDecodeError?: DecodeErrorPolicy;
  /** Topic for undecodable bytes; required when `onDecodeError` is `"dead-letter"`. */
  readonly deadLetterTopic?: string;
  /** Default 10000. */
  readonly sessionTimeoutMs?: number;
  /** Default 1000; must be less than `sessionTimeoutMs`. */
  readonly heartbeatIntervalMs?: number;
  /** Default 30000. */
  readonly rebalanceTimeoutMs?: number;
  /** Longest a fetch waits for data. Default 100. */
  readonly maxWaitTimeMs?: number;
  /** Records per batch where the driver lets us choose (confluent). Default 500. */
  readonly maxBatchSize?: number;
  /**
   * Most bytes one fetch returns per partition. Default 8 MiB on kafkajs, which fetches
   * again only once the last fetch is processed, so larger fetches mean fewer idle round
   * trips (1.3–1.7× the rate of its own 1 MiB default in `bench/README.md`); librdkafka's
   * own default (1 MiB, prefetched in the background) on confluent.
   */
  readonly maxBytesPerPartition?: number;
  /** Most bytes one fetch returns over all partitions. Default 32 MiB on kafkajs; librdkafka's own on confluent. */
  readonly maxBytes?: number;
}

/** {@link KafkaSourceOptions} with defaults applied. */
export interface ResolvedKafkaSourceOptions<T>
  extends ResolvedKafkaConnectionOptions, ResolvedSourceOptions {
  readonly group: string;
  readonly topics: readonly string[];
  readonly decode: (bytes: Buffer) => T;
  readonly onDecodeError: DecodeErrorPolicy;
  readonly deadLetterTopic: string | undefined;
  readonly sessionTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  readonly rebalanceTimeoutMs: number;
  readonly maxWaitTimeMs: number;
  readonly maxBatchSize: number;
  /** `undefined`: the client's own default. */
  readonly maxBytesPerPartition: number | undefined;
  readonly maxBytes: number | undefined;
}

/** Options of {@link kafkaSink}. */
export interface KafkaSinkOptions<T> extends KafkaConnectionOptions {
  /** Turns a value into the bytes written. */
  readonly encode: (value: T) => Buffer;
  /** Topic for records that name none. */
  readonly topic?: string;
  /** Name in logs and errors. Default `kafka:<topic>` or `kafka`. */
  readonly name?: string;
  /** Batches a caller may have in flight; above 1, per-key order across batches rests on the caller. Default 1. */
  readonly maxInFlight?: number;
  /** Idempotent producer (no duplicates from producer retries). Default true. */
  readonly idempotent?: boolean;
  /** Requests in flight per broker connection, ≤ 5 with idempotence. Default 5 (kafkajs uses 1 with idempotence). */
  readonly maxInFlightRequests?: number;
  /** How long the confluent producer waits to fill a batch. Default 5. */
  readonly lingerMs?: number;
  /** Default `"none"`. */
  readonly compression?: "none" | "gzip";
}

/** @internal */
export interface ResolvedKafkaConnectionOptions {
  readonly brokers: readonly string[];
  readonly client: KafkaClientKind;
  readonly clientId: string;
  readonly connectionTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly logLevel: "nothing" | "error" | "warn" | "info" | "debug";
  readonly outageDeadlineMs: number;
}

/** {@link KafkaSinkOptions} with defaults applied. */
export interface ResolvedKafkaSinkOptions<
  T,
> extends ResolvedKafkaConnectionOptions {
  readonly encode: (value: T) => Buffer;
  readonly topic: string | undefined;
  readonly name: string;
  readonly maxInFlight: number;
  readonly idempotent: boolean;
  readonly maxInFlightRequests: number;
  readonly lingerMs: number;
  readonly compression: "none" | "gzip";
}

const positiveInt = z.number().int().min(1, { message: "must be ≥ 1" });
const nonNegative = z.number().min(0, { message: "must be ≥ 0" });
const fn = z.custom<(x: never) => unknown>((v) => typeof v === "function", {
  message: "must be a function",
});

const connectionShape = {
  brokers: z
    .array(z.string().regex(/^[^\s:]+:\d+$/, { message: "must be host:port" }))
    .min(1, { message: "must name at least one broker" }),
  client: z.enum(["kafkajs", "confluent"]).optional(),
  clientId: z.string().min(1).optional(),
  connectionTimeoutMs: positiveInt.optional(),
  requestTimeoutMs: positiveInt.optional(),
  logLevel: z.enum(["nothing", "error", "warn", "info", "debug"]).optional(),
  outageDeadlineMs: positiveInt.optional(),
};

const sourceSchema = z
  .object({
    ...connectionShape,
    group: z.string().min(1, { message: "must not be empty" }),
    topics: z
      .array(z.string().min(1))
      .min(1, { message: "must name at least one topic" }),
    decode: fn,
    ...sourceOptionsShape,
    onDecodeError: z.enum(["dead-letter", "skip", "fail"]).optional(),
    deadLetterTopic: z.string().min(1).optional(),
    sessionTimeoutMs: positiveInt.optional(),
    heartbeatIntervalMs: positiveInt.optional(),
    rebalanceTimeoutMs: positiveInt.optional(),
    maxWaitTimeMs: positiveInt.optional(),
    maxBatchSize: positiveInt.optional(),
    maxBytesPerPartition: positiveInt.optional(),
    maxBytes: positiveInt.optional(),
  })
  .strict();

const sinkSchema = z
  .object({
    ...connectionShape,
    encode: fn,
    topic: z.string().min(1).optional(),
    name: z.string().min(1).optional(),
    maxInFlight: positiveInt.optional(),
    idempotent: z.boolean().optional(),
    maxInFlightRequests: positiveInt.optional(),
    lingerMs: nonNegative.optional(),
    compression: z.enum(["none", "gzip"]).optional(),
  })
  .strict();

function fieldError(
  prefix: string,
  field: string,
  message: string,
): SluiceError {
  return new SluiceError("CONFIG", `${prefix}.${field} ${message}`, {
    context: { field },
  });
}

function zodError(prefix: string, error: z.ZodError): SluiceError {
  const issue = error.issues[0];
  const field = issue === undefined ? "" : issue.path.map(String).join(".");
  const message = issue === undefined ? "is invalid" : issue.message;
  return fieldError(prefix, field, message);
}

/** kafkajs fetch sizes of a source unless set; see {@link KafkaSourceOptions.maxBytesPerPartition}. */
export const KAFKAJS_FETCH_DEFAULTS = {
  maxBytesPerPartition: 8 * 1024 * 1024,
  maxBytes: 32 * 1024 * 1024,
} as const;

function fetchSizes(
  client: KafkaClientKind,
  maxBytesPerPartition: number | undefined,
  maxBytes: number | undefined,
): { maxBytesPerPartition: number | undefined; maxBytes: number | undefined } {
  if (client === "confluent") return { maxBytesPerPartition, maxBytes };
  return {
    maxBytesPerPartition:
      maxBytesPerPartition ?? KAFKAJS_FETCH_DEFAULTS.maxBytesPerPartition,
    maxBytes: maxBytes ?? KAFKAJS_FETCH_DEFAULTS.maxBytes,
  };
}

function connection(
  o: z.infer<typeof sourceSchema> | z.infer<typeof sinkSchema>,
): ResolvedKafkaConnectionOptions {
  return {
    brokers: o.brokers,
    client: o.client ?? "kafkajs",
    clientId: o.clientId ?? "sluice",
    connectionTimeoutMs: o.connectionTimeoutMs ?? 5_000,
    requestTimeoutMs: o.requestTimeoutMs ?? 30_000,
    logLevel: o.logLevel ?? "error",
    outageDeadlineMs: o.outageDeadlineMs ?? DEFAULT_OUTAGE_DEADLINE_MS,
  };
}

/**
 * Validates and defaults Kafka source options once; a bad option throws a `CONFIG`
 * {@link SluiceError} naming the field.
 *
 * @example
 * ```ts
 * resolveKafkaSourceOptions({ brokers: ["127.0.0.1:9092"], group: "g", topics: ["t"], decode, maxInFlight: 0 });
 * // throws: kafka.source.maxInFlight must be ≥ 1
 * ```
 */
export function resolveKafkaSourceOptions<T>(
  options: KafkaSourceOptions<T>,
): ResolvedKafkaSourceOptions<T> {
  const prefix = "kafka.source";
  const parsed = sourceSchema.safeParse(options);
  if (!parsed.success) throw zodError(prefix, parsed.error);
  const o = parsed.data;
  const flow = resolveSourceOptions(o, prefix, `kafka:${o.group}`);
  const sessionTimeoutMs = o.sessionTimeoutMs ?? 10_000;
  const heartbeatIntervalMs = o.heartbeatIntervalMs ?? 1_000;
  if (heartbeatIntervalMs >= sessionTimeoutMs)
    throw fieldError(
      prefix,
      "sessionTimeoutMs",
      `must be greater than heartbeatIntervalMs (${sessionTimeoutMs} ≤ ${heartbeatIntervalMs})`,
    );
  const onDecodeError = o.onDecodeError ?? "dead-letter";
  if (onDecodeError === "dead-letter" && o.deadLetterTopic === undefined)
    throw fieldError(
      prefix,
      "deadLetterTopic",
      `is required when onDecodeError is "dead-letter" (or choose "skip" or "fail")`,
    );
  return {
    ...connection(o),
    ...flow,
    group: o.group,
    topics: o.topics,
    decode: options.decode,
    onDecodeError,
    deadLetterTopic: o.deadLetterTopic,
    sessionTimeoutMs,
    heartbeatIntervalMs,
    rebalanceTimeoutMs: o.rebalanceTimeoutMs ?? 30_000,
    maxWaitTimeMs: o.maxWaitTimeMs ?? 100,
    maxBatchSize: o.maxBatchSize ?? 500,
    ...fetchSizes(o.client ?? "kafkajs", o.maxBytesPerPartition, o.maxBytes),
  };
}

/**
 * Validates and defaults Kafka sink options once; a bad option throws a `CONFIG`
 * {@link SluiceError} naming the field.
 *
 * @example
 * ```ts
 * resolveKafkaSinkOptions({ brokers: ["127.0.0.1:9092"], topic: "out", encode: (s: string) => Buffer.from(s) });
 * ```
 */
export function resolveKafkaSinkOptions<T>(
  options: KafkaSinkOptions<T>,
): ResolvedKafkaSinkOptions<T> {
  const prefix = "kafka.sink";
  const parsed = sinkSchema.safeParse(options);
  if (!parsed.success) throw zodError(prefix, parsed.error);
  const o = parsed.data;
  const idempotent = o.idempotent ?? true;
  const maxInFlightRequests = o.maxInFlightRequests ?? 5;
  if (idempotent && maxInFlightRequests > 5)
    throw fieldError(
      prefix,
      "maxInFlightRequests",
      `must be ≤ 5 with an idempotent producer, got ${maxInFlightRequests}`,
    );
  return {
    ...connection(o),
    encode: options.encode,
    topic: o.topic,
    name: o.name ?? (o.topic === undefined ? "kafka" : `kafka:${o.topic}`),
    maxInFlight: o.maxInFlight ?? 1,
    idempotent,
    maxInFlightRequests,
    lingerMs: o.lingerMs ?? 5,
    compression: o.compression ?? "none",
  };
}
