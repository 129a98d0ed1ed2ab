import { z } from "zod";
import { SluiceError } from "../../operators/sluice-error.js";
import { DEFAULT_OUTAGE_DEADLINE_MS } from "../internal/retry.js";
import type { OutgoingRecord } from "../types.js";

/** Connection and pool options shared by everything in this connector; times in ms. */
export interface PostgresOptions {
  /** `postgres://user:password@host:port/db`; a secret: never printed. */
  readonly connectionString: string;
  /** Schema holding the runtime's tables (checkpoints, dead letters). Default `sluice`. */
  readonly schema?: string;
  /** Most pooled connections. Default 10. */
  readonly poolMax?: number;
  /** Idle connections close after this long. Default 10 000. */
  readonly idleTimeoutMs?: number;
  /** Time allowed to open a connection. Default 5 000. */
  readonly connectionTimeoutMs?: number;
  /** Server-side statement timeout. Default 30 000. */
  readonly statementTimeoutMs?: number;
  /** `application_name` reported to the server. Default `sluice`. */
  readonly applicationName?: string;
  /**
   * How long the server may stay unreachable (a restart, a failover) before a write,
   * checkpoint save, claim or load gives up; retried with backoff until then, readiness
   * false meanwhile. Default 60 000.
   */
  readonly outageDeadlineMs?: number;
}

/** {@link PostgresOptions} with defaults applied. */
export interface ResolvedPostgresOptions {
  readonly connectionString: string;
  readonly schema: string;
  readonly poolMax: number;
  readonly idleTimeoutMs: number;
  readonly connectionTimeoutMs: number;
  readonly statementTimeoutMs: number;
  readonly applicationName: string;
  readonly outageDeadlineMs: number;
}

/** A row as the sink writes it: column name → value (`pg` converts the value). */
export type Row = { readonly [column: string]: unknown };

/** Options of {@link postgresSink}. */
export interface PostgresSinkOptions<T> {
  /** Target table (must exist, with a unique constraint on `keyColumns`). */
  readonly table: string;
  /** Schema of `table`. Default: the pool's `schema`. */
  readonly schema?: string;
  /** Every column written, key columns included. */
  readonly columns: readonly string[];
  /** The conflict target: the columns of the table's primary key or unique constraint. */
  readonly keyColumns: readonly string[];
  /** Columns updated on conflict. Default: `columns` minus `keyColumns`. */
  readonly updateColumns?: readonly string[];
  /**
   * A column holding a monotonic version (event time, sequence): an existing row is only
   * replaced by a row whose version is greater or equal, so a late duplicate never wins.
   */
  readonly versionColumn?: string;
  /** Turns a record into a row; must be deterministic so rewrites are idempotent. */
  readonly toRow: (record: OutgoingRecord<T>) => Row;
  /** Rows per INSERT statement (bounded by 65 535 parameters). Default 500. */
  readonly maxRowsPerStatement?: number;
  /** Batches a caller may have in flight. Default 4. */
  readonly maxInFlight?: number;
  /** Tries of a batch that fails with a retryable error. Default 3. */
  readonly maxAttempts?: number;
  /** Delay before the first retry, doubled each time. Default 100. */
  readonly retryBackoffMs?: number;
  /** Name in logs and errors. Default `postgres:<schema>.<table>`. */
  readonly name?: string;
}

/** {@link PostgresSinkOptions} with defaults applied. */
export interface ResolvedPostgresSinkOptions<T> {
  readonly table: string;
  readonly schema: string;
  readonly columns: readonly string[];
  readonly keyColumns: readonly string[];
  readonly updateColumns: readonly string[];
  readonly versionColumn: string | undefined;
  readonly toRow: (record: OutgoingRecord<T>) => Row;
  readonly maxRowsPerStatement: number;
  readonly maxInFlight: number;
  readonly maxAttempts: number;
  readonly retryBackoffMs: number;
  readonly name: string;
}

/** PostgreSQL's parameter limit per statement. */
export const MAX_PARAMETERS = 65_535;

/**
 * Identifiers we accept from config: lower-case, unquoted-style, at most 63 bytes, so the
 * same name means the same object quoted or not, in PostgreSQL and CockroachDB alike.
 */
export const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

const identifier = z
  .string()
  .regex(
    IDENTIFIER,
    "must match [a-z_][a-z0-9_]* and be at most 63 characters",
  );
const positiveInt = z.number().int().min(1);

const poolSchema = z
  .object({
    connectionString: z.string().refine((s) => /^postgres(ql)?:\/\//.test(s), {
      message: "must be a postgres:// or postgresql:// URL",
    }),
    schema: identifier.optional(),
    poolMax: positiveInt.optional(),
    idleTimeoutMs: z.number().int().min(0).optional(),
    connectionTimeoutMs: positiveInt.optional(),
    statementTimeoutMs: positiveInt.optional(),
    applicationName: z.string().min(1).max(63).optional(),
    outageDeadlineMs: positiveInt.optional(),
  })
  .strict();

const sinkSchema = z
  .object({
    table: identifier,
    schema: identifier.optional(),
    columns: z.array(identifier).min(1),
    keyColumns: z.array(identifier).min(1),
    updateColumns: z.array(identifier).optional(),
    versionColumn: identifier.optional(),
    toRow: z.custom<(record: OutgoingRecord<unknown>) => Row>(
      (v) => typeof v === "function",
      { message: "must be a function" },
    ),
    maxRowsPerStatement: positiveInt.optional(),
    maxInFlight: positiveInt.optional(),
    maxAttempts: positiveInt.optional(),
    retryBackoffMs: z.number().min(0).optional(),
    name: z.string().min(1).optional(),
  })
  .strict();

/**
 * A CONFIG error naming the first failing field. Zod messages carry no input values, so a
 * connection string never reaches the message.
 */
export function configError(prefix: string, error: z.ZodError): SluiceError {
  const issue = error.issues[0];
  const field = issue === undefined ? "" : issue.path.map(String).join(".");
  const message = issue === undefined ? "invalid options" : issue.message;
  return fieldError(prefix, field, message);
}

/** A CONFIG error for `prefix.field`. */
export function fieldError(
  prefix: string,
  field: string,
  message: string,
): SluiceError {
  return new SluiceError(
    "CONFIG",
    `${prefix}${field === "" ? "" : `.${field}`}: ${message}`,
    { context: { field } },
  );
}

/**
 * Validates and defaults pool options once; a bad option throws a CONFIG error naming it.
 *
 * @example
 * ```ts
 * resolvePostgresOptions({ connectionString: process.env.DATABASE_URL!, schema: "Bad" });
 * // throws: postgres.schema: must match [a-z_][a-z0-9_]* and be at most 63 characters
 * ```
 */
export function resolvePostgresOptions(
  options: PostgresOptions,
): ResolvedPostgresOptions {
  const parsed = poolSchema.safeParse(options);
  if (!parsed.success) throw configError("postgres", parsed.error);
  const o = parsed.data;
  return {
    connectionString: o.connectionString,
    schema: o.schema ?? "sluice",
    poolMax: o.poolMax ?? 10,
    idleTimeoutMs: o.idleTimeoutMs ?? 10_000,
    connectionTimeoutMs: o.connectionTimeoutMs ?? 5_000,
    statementTimeoutMs: o.statementTimeoutMs ?? 30_000,
    applicationName: o.applicationName ?? "sluice",
    outageDeadlineMs: o.outageDeadlineMs ?? DEFAULT_OUTAGE_DEADLINE_MS,
  };
}

/**
 * Validates and defaults sink options once, checking that the key, update and version
 * columns are among `columns`.
 *
 * @example
 * ```ts
 * resolvePostgresSinkOptions({ table: "t", columns: ["id", "v"], keyColumns: ["id"], toRow }, "sluice");
 * ```
 */
export function resolvePostgresSinkOptions<T>(
  options: PostgresSinkOptions<T>,
  defaultSchema: string,
): ResolvedPostgresSinkOptions<T> {
  const parsed = sinkSchema.safeParse(options);
  if (!parsed.success) throw configError("postgres.sink", parsed.error);
  const o = parsed.data;
  const columns = new Set(o.columns);
  if (columns.size !== o.columns.length)
    throw fieldError("postgres.sink", "columns", "must not repeat a column");
  for (const [field, list] of [
    ["keyColumns", o.keyColumns],
    ["updateColumns", o.updateColumns ?? []],
    ["versionColumn", o.versionColumn === undefined ? [] : [o.versionColumn]],
  ] as const) {
    const missing = list.find((col) => !columns.has(col));
    if (missing !== undefined)
      throw fieldError(
        "postgres.sink",
        field,
        `column ${missing} is not in columns`,
      );
  }
  const keys = new Set(o.keyColumns);
  const updateColumns =
    o.updateColumns ?? o.columns.filter((col) => !keys.has(col));
  if (updateColumns.some((col) => keys.has(col)))
    throw fieldError(
      "postgres.sink",
      "updateColumns",
      "must not include a key column",
    );
  const schema = o.schema ?? defaultSchema;
  const maxRows = Math.min(
    o.maxRowsPerStatement ?? 500,
    Math.floor(MAX_PARAMETERS / o.columns.length),
  );
  return {
    table: o.table,
    schema,
    columns: o.columns,
    keyColumns: o.keyColumns,
    updateColumns,
    versionColumn: o.versionColumn,
    toRow: options.toRow,
    maxRowsPerStatement: maxRows,
    maxInFlight: o.maxInFlight ?? 4,
    maxAttempts: o.maxAttempts ?? 3,
    retryBackoffMs: o.retryBackoffMs ?? 100,
    name: o.name ?? `postgres:${schema}.${o.table}`,
  };
}
