import { SluiceError } from "../../operators/sluice-error.js";
import type { Classification } from "../internal/classification.js";
import { classification as c } from "../internal/classification.js";

export type { Classification };

/** Binary-protocol response statuses (memcached `protocol_binary.h`), by number. */
export const STATUSES: ReadonlyMap<number, Classification> = new Map([
  [0x01, c("NOT_FOUND", false)], // key not found
  [0x02, c("CONFLICT", false)], // key exists / CAS mismatch
  [0x03, c("VALIDATE", false)], // value too large
  [0x04, c("VALIDATE", false)], // invalid arguments
  [0x05, c("CONFLICT", false)], // item not stored
  [0x06, c("VALIDATE", false)], // non-numeric value
  [0x20, c("CONFIG", false)], // authentication error
  [0x21, c("CONFIG", false)], // authentication continue
  [0x81, c("CONFIG", false)], // unknown command
  [0x82, c("UNAVAILABLE", true)], // out of memory
  [0x83, c("CONFIG", false)], // not supported
  [0x84, c("INTERNAL", false)], // internal error
  [0x85, c("UNAVAILABLE", true)], // busy
  [0x86, c("UNAVAILABLE", true)], // temporary failure
]);

/** Node socket errors (`errno` codes) on the way to a server. */
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

/**
 * A failure this connector saw: a response `status` (a number from the binary protocol) or
 * a transport failure (memjs reports it as an Error, with an `errno` code when Node had one).
 */
export type MemcachedFailure =
  | { readonly kind: "status"; readonly status: number }
  | { readonly kind: "transport"; readonly error: unknown };

/**
 * Maps a memcached failure to its {@link Classification}: statuses by number, transport
 * errors by Node `errno` code; a transport error without one (memjs's own socket timeouts)
 * is a retryable UNAVAILABLE, because that is all memjs reports. Never by name or message.
 *
 * @example
 * ```ts
 * classifyMemcachedFailure({ kind: "status", status: 0x85 }); // { code: "UNAVAILABLE", retryable: true }
 * ```
 */
export function classifyMemcachedFailure(
  failure: MemcachedFailure,
): Classification {
  if (failure.kind === "status")
    return STATUSES.get(failure.status) ?? c("INTERNAL", false);
  const { error } = failure;
  if (error instanceof SluiceError) return c(error.code, error.retryable);
  const code =
    typeof error === "object" && error !== null
      ? (error as { readonly code?: unknown }).code
      : undefined;
  if (typeof code === "string") {
    const known = SOCKET_CODES.get(code);
    if (known !== undefined) return known;
  }
  return c("UNAVAILABLE", true);
}

/**
 * A {@link SluiceError} for a failed memcached call, classified, with the cause kept.
 *
 * @example
 * ```ts
 * throw toMemcachedError({ kind: "status", status }, "memcached add 127.0.0.1:11211");
 * ```
 */
export function toMemcachedError(
  failure: MemcachedFailure,
  what: string,
): SluiceError {
  if (failure.kind === "transport" && failure.error instanceof SluiceError)
    return failure.error;
  const { code, retryable } = classifyMemcachedFailure(failure);
  const detail =
    failure.kind === "status"
      ? `status 0x${failure.status.toString(16).padStart(2, "0")}`
      : failure.error instanceof Error
        ? failure.error.message
        : String(failure.error);
  return new SluiceError(code, `${what}: ${detail}`, {
    retryable,
    ...(failure.kind === "transport" ? { cause: failure.error } : {}),
  });
}
