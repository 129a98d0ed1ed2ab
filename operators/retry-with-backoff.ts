import {
  asyncScheduler,
  defer,
  retry,
  throwError,
  timer,
  type Observable,
  type SchedulerLike,
} from "rxjs";
import { positiveInteger, positiveNumber } from "./internal/options.js";
import { seededRandom } from "./internal/random.js";
import { timeoutAfter } from "./internal/timeout.js";
import type { Record } from "./record.js";
import type { RetryBudget } from "./retry-budget.js";
import { SluiceError, toSluiceError } from "./sluice-error.js";

/** How the backoff delay is randomised: `full` picks in [0, d), `equal` in [d/2, d), `none` waits d. */
export type Jitter = "full" | "equal" | "none";

/** Options of {@link retryWithBackoff}. */
export interface RetryWithBackoffOptions {
  /** Attempts in all, the first included. Default 3. */
  readonly maxAttempts?: number;
  /** Delay before the first retry; doubles each retry. Default 100. */
  readonly baseDelayMs?: number;
  /** Cap on one delay. Default 10 000. */
  readonly maxDelayMs?: number;
  /** Default `full`. */
  readonly jitter?: Jitter;
  /** Seed of the jitter's random numbers, for runs that replay. Default: unseeded (`Math.random`). */
  readonly seed?: number;
  /** Shared budget of the dependency; a retry it refuses ends in RETRY_BUDGET_EXHAUSTED. */
  readonly budget?: RetryBudget;
  /** Time allowed for one attempt; a late attempt fails with a retryable TIMEOUT. Default: none. */
  readonly attemptTimeoutMs?: number;
  /** Clock for delays and timeouts. Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
}

function withAttempts(error: SluiceError, attempts: number): SluiceError {
  return new SluiceError(error.code, error.message, {
    retryable: error.retryable,
    cause: error.cause ?? error,
    context: { ...error.context, attempts },
  });
}

/**
 * Wraps a per-record step so that retryable failures are tried again after an exponential,
 * jittered delay, up to `maxAttempts` and within a shared {@link RetryBudget}. Errors that
 * are not `retryable` fail at once; the final error carries `context.attempts`.
 *
 * Use it inside `keyOrderedMap`: the record's key stays blocked while it retries, so per-key
 * order holds, and the call's failure becomes a `failed` outcome with its attempt count.
 *
 * @example
 * ```ts
 * const budget = retryBudget({ ratio: 0.1, scheduler });
 * records$.pipe(keyOrderedMap(retryWithBackoff((r) => payments.charge(r.value), { maxAttempts: 5, budget, scheduler })));
 * ```
 */
export function retryWithBackoff<T, R>(
  step: (record: Record<T>) => Observable<R>,
  options: RetryWithBackoffOptions = {},
): (record: Record<T>) => Observable<R> {
  const maxAttempts = positiveInteger(
    "retryWithBackoff",
    "maxAttempts",
    options.maxAttempts ?? 3,
  );
  const baseDelayMs = positiveNumber(
    "retryWithBackoff",
    "baseDelayMs",
    options.baseDelayMs ?? 100,
  );
  const maxDelayMs = positiveNumber(
    "retryWithBackoff",
    "maxDelayMs",
    options.maxDelayMs ?? 10_000,
  );
  const attemptTimeoutMs =
    options.attemptTimeoutMs === undefined
      ? undefined
      : positiveNumber(
          "retryWithBackoff",
          "attemptTimeoutMs",
          options.attemptTimeoutMs,
        );
  const jitter = options.jitter ?? "full";
  const random =
    options.seed === undefined ? Math.random : seededRandom(options.seed);
  const scheduler = options.scheduler ?? asyncScheduler;
  const { budget } = options;

  const delayOf = (retryNumber: number): number => {
    const d = Math.min(maxDelayMs, baseDelayMs * 2 ** (retryNumber - 1));
    if (jitter === "none") return d;
    if (jitter === "equal") return d / 2 + random() * (d / 2);
    return random() * d;
  };

  return (record) =>
    defer(() => {
      budget?.recordCall();
      let attempt = defer(() => step(record));
      if (attemptTimeoutMs !== undefined) {
        attempt = attempt.pipe(
          timeoutAfter(attemptTimeoutMs, scheduler, "attempt"),
        );
      }
      return attempt.pipe(
        retry({
          delay: (error: unknown, retryNumber: number) => {
            const e = toSluiceError(error);
            if (!e.retryable || retryNumber >= maxAttempts)
              return throwError(() => withAttempts(e, retryNumber));
            if (budget !== undefined && !budget.tryRetry()) {
              return throwError(
                () =>
                  new SluiceError(
                    "RETRY_BUDGET_EXHAUSTED",
                    `retry budget exhausted after ${retryNumber} attempts: ${e.message}`,
                    {
                      retryable: true,
                      cause: e,
                      context: { ...e.context, attempts: retryNumber },
                    },
                  ),
              );
            }
            return timer(delayOf(retryNumber), scheduler);
          },
        }),
      );
    });
}
