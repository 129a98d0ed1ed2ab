import { z } from "zod";
import { SluiceError } from "../../operators/sluice-error.js";
import type { OutgoingRecord } from "../types.js";

/** How the keyspace is replicated when {@link applyCassandraSchema} creates it. */
export type Replication =
  | { readonly class: "SimpleStrategy"; readonly replicationFactor: number }
  | {
      readonly class: "NetworkTopologyStrategy";
      readonly datacenters: { readonly [dc: string]: number };
    };

/** Connection options shared by everything in this connector; times in ms. */
export interface CassandraOptions {
  readonly contactPoints: readonly string[];
  readonly localDataCenter: string;
  /** Keyspace of the runtime's tables (dedupe, checkpoints) and default of sinks. */
  readonly keyspace: string;
  /** Used only when the keyspace is created. Default SimpleStrategy, factor 1. */
  readonly replication?: Replication;
  readonly username?: string;
  /** A secret: never printed. */
  readonly password?: string;
  /** Client-side timeout of one request. Default 12 000. */
  readonly requestTimeoutMs?: number;
}

/** {@link CassandraOptions} with defaults applied. */
export interface ResolvedCassandraOptions {
  readonly contactPoints: readonly string[];
  readonly localDataCenter: string;
  readonly keyspace: string;
  readonly replication: Replication;
  readonly username: string | undefined;
  readonly password: string | undefined;
  readonly requestTimeoutMs: number;
}

/** A row as the sink writes it: column name → value. */
export type CassandraRow = { readonly [column: string]: unknown };

/** Options of {@link cassandraSink}. */
export interface CassandraSinkOptions<T> {
  readonly table: string;
  /** Default: the client's keyspace. */
  readonly keyspace?: string;
  /** Every column written, primary key included. */
  readonly columns: readonly string[];
  /** Deterministic record → row, so a rewrite is the same upsert. */
  readonly toRow: (record: OutgoingRecord<T>) => CassandraRow;
  /** Time to live of written cells in ms (rounded up to seconds); 0 = none. Default 0. */
  readonly ttlMs?: number;
  /** Per-record TTL in ms, overriding `ttlMs`. */
  readonly ttlOf?: (record: OutgoingRecord<T>) => number;
  /** Writes in flight at once within a batch (`executeConcurrent`). Default 32. */
  readonly concurrency?: number;
  /** Batches a caller may have in flight. Default 2. */
  readonly maxInFlight?: number;
  /** Tries of a batch whose failures are all retryable. Default 3. */
  readonly maxAttempts?: number;
  readonly name?: string;
}

/** Keyspace, table and column names: lower-case, so quoted and unquoted mean the same. */
export const IDENTIFIER = /^[a-z][a-z0-9_]{0,47}$/;
const identifier = z
  .string()
  .regex(IDENTIFIER, "must match [a-z][a-z0-9_]* and be at most 48 characters");
const positiveInt = z.number().int().min(1);

const clientSchema = z
  .object({
    contactPoints: z.array(z.string().min(1)).min(1),
    localDataCenter: z.string().min(1),
    keyspace: identifier,
    replication: z
      .discriminatedUnion("class", [
        z
          .object({
            class: z.literal("SimpleStrategy"),
            replicationFactor: positiveInt,
          })
          .strict(),
        z
          .object({
            class: z.literal("NetworkTopologyStrategy"),
            datacenters: z.record(
              z
                .string()
                .regex(/^[A-Za-z0-9_.-]+$/, "must be a datacenter name"),
              positiveInt,
            ),
          })
          .strict(),
      ])
      .optional(),
    username: z.string().min(1).optional(),
    password: z.string().min(1).optional(),
    requestTimeoutMs: positiveInt.optional(),
  })
  .strict();

const sinkSchema = z
  .object({
    table: identifier,
    keyspace: identifier.optional(),
    columns: z.array(identifier).min(1),
    toRow: z.custom<unknown>((v) => typeof v === "function", {
      message: "must be a function",
    }),
    ttlMs: z.number().int().min(0).optional(),
    ttlOf: z
      .custom<unknown>((v) => typeof v === "function", {
        message: "must be a function",
      })
      .optional(),
    concurrency: positiveInt.optional(),
    maxInFlight: positiveInt.optional(),
    maxAttempts: positiveInt.optional(),
    name: z.string().min(1).optional(),
  })
  .strict();

function configError(prefix: string, error: z.ZodError): SluiceError {
  const issue = error.issues[0];
  const field = issue === undefined ? "" : issue.path.map(String).join(".");
  return new SluiceError(
    "CONFIG",
    `${prefix}${field === "" ? "" : `.${field}`}: ${issue?.message ?? "invalid options"}`,
    { context: { field } },
  );
}

/**
 * Validates and defaults client options once; errors name the field, never a value.
 *
 * @example
 * ```ts
 * resolveCassandraOptions({ contactPoints: ["127.0.0.1:9042"], localDataCenter: "datacenter1", keyspace: "Bad" });
 * // throws: cassandra.keyspace: must match [a-z][a-z0-9_]* and be at most 48 characters
 * ```
 */
export function resolveCassandraOptions(
  options: CassandraOptions,
): ResolvedCassandraOptions {
  const parsed = clientSchema.safeParse(options);
  if (!parsed.success) throw configError("cassandra", parsed.error);
  const o = parsed.data;
  if ((o.username === undefined) !== (o.password === undefined))
    throw new SluiceError(
      "CONFIG",
      "cassandra.password: username and password go together",
      {
        context: { field: "password" },
      },
    );
  return {
    contactPoints: o.contactPoints,
    localDataCenter: o.localDataCenter,
    keyspace: o.keyspace,
    replication: o.replication ?? {
      class: "SimpleStrategy",
      replicationFactor: 1,
    },
    username: o.username,
    password: o.password,
    requestTimeoutMs: o.requestTimeoutMs ?? 12_000,
  };
}

/** {@link CassandraSinkOptions} with defaults applied. */
export interface ResolvedCassandraSinkOptions<T> {
  readonly table: string;
  readonly keyspace: string;
  readonly columns: readonly string[];
  readonly toRow: (record: OutgoingRecord<T>) => CassandraRow;
  readonly ttlOf: (record: OutgoingRecord<T>) => number;
  readonly concurrency: number;
  readonly maxInFlight: number;
  readonly maxAttempts: number;
  readonly name: string;
}

/**
 * Validates and defaults sink options once.
 *
 * @example
 * ```ts
 * resolveCassandraSinkOptions({ table: "t", columns: ["id", "v"], toRow }, "sluice");
 * ```
 */
export function resolveCassandraSinkOptions<T>(
  options: CassandraSinkOptions<T>,
  defaultKeyspace: string,
): ResolvedCassandraSinkOptions<T> {
  const parsed = sinkSchema.safeParse(options);
  if (!parsed.success) throw configError("cassandra.sink", parsed.error);
  const o = parsed.data;
  if (new Set(o.columns).size !== o.columns.length)
    throw new SluiceError(
      "CONFIG",
      "cassandra.sink.columns: must not repeat a column",
      {
        context: { field: "columns" },
      },
    );
  const keyspace = o.keyspace ?? defaultKeyspace;
  const ttlMs = o.ttlMs ?? 0;
  return {
    table: o.table,
    keyspace,
    columns: o.columns,
    toRow: options.toRow,
    ttlOf: options.ttlOf ?? (() => ttlMs),
    concurrency: o.concurrency ?? 32,
    maxInFlight: o.maxInFlight ?? 2,
    maxAttempts: o.maxAttempts ?? 3,
    name: o.name ?? `cassandra:${keyspace}.${o.table}`,
  };
}

/** Milliseconds to whole CQL TTL seconds, rounded up; 0 stays 0 (no TTL). */
export function ttlSeconds(ttlMs: number): number {
  if (!Number.isFinite(ttlMs) || ttlMs < 0)
    throw new SluiceError(
      "VALIDATE",
      `TTL must be a non-negative number of ms, got ${ttlMs}`,
    );
  return Math.ceil(ttlMs / 1000);
}
