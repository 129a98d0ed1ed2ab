import cassandra from "cassandra-driver";
import { SluiceError } from "../../operators/sluice-error.js";
import type { ErrorContext } from "../../operators/sluice-error.js";
import type { Classification } from "../internal/classification.js";
import {
  classification as c,
  classifiedError,
} from "../internal/classification.js";

export type { Classification };
const codes = cassandra.types.responseErrorCodes;

/** Native-protocol error codes of a `ResponseError`, by number. */
export const RESPONSE_CODES: ReadonlyMap<number, Classification> = new Map([
  [codes.serverError, c("INTERNAL", true)],
  [codes.protocolError, c("INTERNAL", false)],
  [codes.badCredentials, c("CONFIG", false)],
  [codes.unavailableException, c("UNAVAILABLE", true)],
  [codes.overloaded, c("UNAVAILABLE", true)],
  [codes.isBootstrapping, c("UNAVAILABLE", true)],
  [codes.truncateError, c("UNAVAILABLE", true)],
  [codes.writeTimeout, c("TIMEOUT", true)],
  [codes.readTimeout, c("TIMEOUT", true)],
  [codes.readFailure, c("UNAVAILABLE", true)],
  [codes.functionFailure, c("PROCESS", false)],
  [codes.writeFailure, c("UNAVAILABLE", true)],
  [codes.syntaxError, c("CONFIG", false)],
  [codes.unauthorized, c("CONFIG", false)],
  [codes.invalid, c("VALIDATE", false)],
  [codes.configError, c("CONFIG", false)],
  [codes.alreadyExists, c("CONFLICT", false)],
  [codes.unprepared, c("INTERNAL", true)],
]);

/**
 * Maps a cassandra-driver error to its {@link Classification}: a `ResponseError` by its
 * protocol code, the driver's other errors by class (`instanceof`), never by name or message.
 *
 * @example
 * ```ts
 * classifyCassandraError(new cassandra.errors.ResponseError(0x1100, "write timeout")); // TIMEOUT, retryable
 * ```
 */
export function classifyCassandraError(error: unknown): Classification {
  const e = cassandra.errors;
  if (error instanceof SluiceError) return c(error.code, error.retryable);
  if (error instanceof e.ResponseError)
    return RESPONSE_CODES.get(error.code) ?? c("INTERNAL", false);
  if (error instanceof e.NoHostAvailableError) return c("CONNECTION", true);
  if (error instanceof e.OperationTimedOutError) return c("TIMEOUT", true);
  if (error instanceof e.BusyConnectionError) return c("BACKPRESSURE", true);
  if (error instanceof e.AuthenticationError) return c("CONFIG", false);
  if (error instanceof e.ArgumentError) return c("VALIDATE", false);
  if (error instanceof e.NotSupportedError) return c("CONFIG", false);
  if (error instanceof TypeError || error instanceof RangeError)
    return c("VALIDATE", false); // parameter serialization (a value of the wrong type)
  return c("INTERNAL", false);
}

/**
 * Wraps a driver error into a classified {@link SluiceError}, keeping it as the cause.
 *
 * @example
 * ```ts
 * throw toCassandraError(e, "cassandra.sink insert into ks.reviews", { key });
 * ```
 */
export function toCassandraError(
  error: unknown,
  what: string,
  context: ErrorContext = {},
): SluiceError {
  return classifiedError(error, classifyCassandraError, what, context);
}
