import { setTimeout as delay } from "node:timers/promises";
import { SluiceError } from "../../operators/sluice-error.js";
import type { SluiceErrorCode } from "../../operators/sluice-error.js";
import { outages as processOutages } from "./outages.js";
import type { OutageHandle, Outages } from "./outages.js";

/** How long a dependency may stay down before a call gives up, unless configured. */
export const DEFAULT_OUTAGE_DEADLINE_MS = 60_000;

/** Codes that mean "the dependency is down or slow": waited out until the deadline. */
const OUTAGE_CODES: ReadonlySet<SluiceErrorCode> = new Set([
  "CONNECTION",
  "UNAVAILABLE",
  "TIMEOUT",
]);

/** True for a retryable error that says a dependency is down (CONNECTION, UNAVAILABLE, TIMEOUT). */
export function isOutage(error: SluiceError): boolean {
  return error.retryable && OUTAGE_CODES.has(error.code);
}

/** Options of {@link retryUntilDeadline}. @internal */
export interface DeadlineRetryOptions {
  /**
   * What the call waits on, named in logs, in readiness and in the final error:
   * `kafka.admin.groupOffsets on 127.0.0.1:9092`, `postgres checkpoint save`.
   */
  readonly what: string;
  /** Give up this long after the first failure. */
  readonly deadlineMs: number;
  /** Classifies a failure (each connector's `classify.ts`); retried when `retryable`. */
  readonly toError: (error: unknown) => SluiceError;
  /** First delay; doubled per attempt, with jitter. Default 100. */
  readonly initialBackoffMs?: number;
  /** Largest delay. Default 2 000. */
  readonly maxBackoffMs?: number;
  /**
   * Most attempts for retryable errors that are not outages (a CONFLICT such as a
   * serialization failure or a rebalance); outages are waited out until the deadline.
   * Default: until the deadline as well.
   */
  readonly maxAttempts?: number;
  /** Stops waiting (shutdown): the last error is thrown at once. */
  readonly signal?: AbortSignal;
  /** Called before each retry's delay (metrics, logs). */
  readonly onRetry?: (error: SluiceError, attempt: number) => void;
  /** Where outages are reported. Default the process's registry (runtime readiness reads it). */
  readonly outages?: Outages;
  /**
   * The failure that made the caller start retrying (a crash reported by an event): it counts
   * as the first attempt, so the outage is listed and the backoff starts before `attempt`
   * is first called.
   */
  readonly alreadyFailed?: unknown;
}

/**
 * Calls `attempt` until it succeeds, retrying every retryable failure with exponential
 * backoff until `deadlineMs` after the first failure: the one retry helper of the connectors.
 * While an outage-class failure (CONNECTION, UNAVAILABLE, TIMEOUT) is being waited out, the
 * wait is listed in the process's outages (readiness goes false) under `what`. A
 * non-retryable failure is thrown at once; past the deadline the last failure is thrown as a
 * non-retryable SluiceError that says what was waited on, for how long and how many times.
 *
 * @example
 * ```ts
 * const offsets = await retryUntilDeadline(() => admin.fetchOffsets(...), {
 *   what: "kafka.admin.groupOffsets",
 *   deadlineMs: 60_000,
 *   toError: (e) => toKafkaError(e, "kafka.admin.groupOffsets failed"),
 * });
 * ```
 * @internal
 */
export async function retryUntilDeadline<R>(
  attempt: () => Promise<R>,
  o: DeadlineRetryOptions,
): Promise<R> {
  const initial = o.initialBackoffMs ?? 100;
  const max = o.maxBackoffMs ?? 2_000;
  let started: number | undefined;
  let outage: OutageHandle | undefined;
  try {
    for (let n = 1; ; n++) {
      let error: SluiceError;
      if (n === 1 && o.alreadyFailed !== undefined)
        error = o.toError(o.alreadyFailed);
      else
        try {
          const result = await attempt();
          outage?.end("up");
          outage = undefined;
          return result;
        } catch (e) {
          error = o.toError(e);
        }
      started ??= Date.now();
      const elapsed = Date.now() - started;
      const down = isOutage(error);
      if (down) {
        if (outage === undefined)
          outage = (o.outages ?? processOutages).begin(o.what, error);
        else outage.failed(error);
      }
      const exhausted =
        elapsed >= o.deadlineMs ||
        (!down && o.maxAttempts !== undefined && n >= o.maxAttempts);
      if (!error.retryable || o.signal?.aborted === true) throw error;
      if (exhausted) {
        outage?.end("gave-up");
        outage = undefined;
        throw gaveUp(error, o.what, n, elapsed);
      }
      o.onRetry?.(error, n);
      const backoff = Math.min(max, initial * 2 ** Math.min(n - 1, 20));
      const wait = Math.min(
        backoff / 2 + Math.random() * (backoff / 2),
        Math.max(0, o.deadlineMs - elapsed),
      );
      try {
        await delay(
          wait,
          undefined,
          o.signal === undefined ? {} : { signal: o.signal },
        );
      } catch {
        throw error; // aborted while waiting
      }
    }
  } finally {
    // A non-retryable failure or an abort ends the wait too (it is no longer waited on).
    outage?.end("gave-up");
  }
}

function gaveUp(
  last: SluiceError,
  what: string,
  attempts: number,
  elapsedMs: number,
): SluiceError {
  return new SluiceError(
    last.code,
    `${what}: gave up after ${attempts} attempts in ${elapsedMs} ms waiting for it to answer: ${last.message}`,
    { retryable: false, cause: last, context: { ...last.context, attempts } },
  );
}
