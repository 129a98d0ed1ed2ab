import { SluiceError } from "../../operators/sluice-error.js";
import type {
  ErrorContext,
  SluiceErrorCode,
} from "../../operators/sluice-error.js";

/** What a driver error means to Sluice. */
export interface Classification {
  readonly code: SluiceErrorCode;
  readonly retryable: boolean;
}

const c = (code: SluiceErrorCode, retryable: boolean): Classification => ({
  code,
  retryable,
});

/**
 * SQLSTATEs with a meaning of their own, by full code. PostgreSQL and CockroachDB share
 * them; CockroachDB asks clients to retry with `40001`.
 */
export const SQLSTATES: ReadonlyMap<string, Classification> = new Map([
  ["40001", c("CONFLICT", true)], // serialization_failure (CockroachDB: retry the transaction)
  ["40P01", c("CONFLICT", true)], // deadlock_detected
  ["40003", c("UNAVAILABLE", true)], // statement_completion_unknown
  ["23505", c("CONFLICT", false)], // unique_violation
  ["55P03", c("CONFLICT", true)], // lock_not_available
  ["57014", c("TIMEOUT", true)], // query_canceled (statement_timeout)
  ["57P01", c("UNAVAILABLE", true)], // admin_shutdown
  ["57P02", c("UNAVAILABLE", true)], // crash_shutdown
  ["57P03", c("UNAVAILABLE", true)], // cannot_connect_now
  ["3D000", c("CONFIG", false)], // invalid_catalog_name (no such database)
  ["3F000", c("CONFIG", false)], // invalid_schema_name
  ["42P01", c("NOT_FOUND", false)], // undefined_table
  ["42703", c("CONFIG", false)], // undefined_column
  ["42501", c("CONFIG", false)], // insufficient_privilege
  ["XX000", c("INTERNAL", false)], // internal_error
]);

/** SQLSTATE classes (first two characters) for codes not listed in {@link SQLSTATES}. */
export const SQLSTATE_CLASSES: ReadonlyMap<string, Classification> = new Map([
  ["08", c("CONNECTION", true)], // connection exception
  ["22", c("VALIDATE", false)], // data exception
  ["23", c("VALIDATE", false)], // integrity constraint violation
  ["25", c("INTERNAL", false)], // invalid transaction state
  ["28", c("CONFIG", false)], // invalid authorization
  ["40", c("CONFLICT", true)], // transaction rollback
  ["42", c("CONFIG", false)], // syntax error or access rule violation
  ["53", c("UNAVAILABLE", true)], // insufficient resources
  ["54", c("VALIDATE", false)], // program limit exceeded
  ["57", c("UNAVAILABLE", true)], // operator intervention
  ["58", c("UNAVAILABLE", true)], // system error (I/O)
  ["XX", c("INTERNAL", false)], // internal error
]);

/** Node socket errors (`errno` codes) seen when the server is unreachable or goes away. */
export const SOCKET_CODES: ReadonlyMap<string, Classification> = new Map([
  ["ECONNREFUSED", c("CONNECTION", true)],
  ["ECONNRESET", c("CONNECTION", true)],
  ["EPIPE", c("CONNECTION", true)],
  ["ENOTFOUND", c("CONNECTION", true)],
  ["EAI_AGAIN", c("CONNECTION", true)],
  ["EHOSTUNREACH", c("CONNECTION", true)],
  ["ENETUNREACH", c("CONNECTION", true)],
  ["ETIMEDOUT", c("TIMEOUT", true)],
]);

const SQLSTATE = /^[0-9A-Z]{5}$/;

/**
 * Maps a `pg` error to its {@link Classification}: by SQLSTATE (full code, then class) or
 * Node socket code, never by name or message. Anything else is a non-retryable INTERNAL.
 *
 * @example
 * ```ts
 * classifyPostgresError(Object.assign(new Error("x"), { code: "40001" })); // { code: "CONFLICT", retryable: true }
 * ```
 */
export function classifyPostgresError(error: unknown): Classification {
  if (error instanceof SluiceError) return c(error.code, error.retryable);
  if (typeof error !== "object" || error === null) return c("INTERNAL", false);
  const code = (error as { readonly code?: unknown }).code;
  if (typeof code !== "string") return c("INTERNAL", false);
  const socket = SOCKET_CODES.get(code);
  if (socket !== undefined) return socket;
  if (!SQLSTATE.test(code)) return c("INTERNAL", false);
  return (
    SQLSTATES.get(code) ??
    SQLSTATE_CLASSES.get(code.slice(0, 2)) ??
    c("INTERNAL", false)
  );
}

/**
 * Wraps a driver error into a {@link SluiceError} with its classification, keeping it as the
 * cause. The message names `what` was being done; it never includes connection strings.
 *
 * @example
 * ```ts
 * throw toPostgresError(e, "postgres.sink upsert into sluice.orders", { key });
 * ```
 */
export function toPostgresError(
  error: unknown,
  what: string,
  context: ErrorContext = {},
): SluiceError {
  if (error instanceof SluiceError) return error;
  const { code, retryable } = classifyPostgresError(error);
  const detail = error instanceof Error ? error.message : String(error);
  return new SluiceError(code, `${what}: ${detail}`, {
    retryable,
    cause: error,
    context,
  });
}
