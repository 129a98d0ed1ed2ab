import { retryUntilDeadline } from "../internal/retry.js";
import { toPostgresError } from "./classify.js";
import type { PostgresMetrics } from "./metrics.js";

/**
 * Calls `attempt` until it succeeds, through the connectors' one retry helper
 * (`connectors/internal/retry.ts`): a server that is down or restarting (CONNECTION,
 * UNAVAILABLE, TIMEOUT, e.g. 57P01 `terminating connection due to administrator command`)
 * is waited out until `deadlineMs`, listed as an outage meanwhile; other retryable failures
 * (a serialization conflict) get at most `maxAttempts`. Counts retries and the final
 * failure in `metrics`.
 *
 * @example
 * ```ts
 * await withRetries(() => writeOnce(batch), { what: "postgres.sink upsert", maxAttempts: 3, backoffMs: 100, deadlineMs: 60_000, metrics });
 * ```
 */
export async function withRetries<R>(
  attempt: () => Promise<R>,
  o: {
    /** What is waited on, e.g. `postgres checkpoint save reviews`. */
    readonly what: string;
    readonly maxAttempts: number;
    readonly backoffMs: number;
    readonly deadlineMs: number;
    readonly metrics: PostgresMetrics;
  },
): Promise<R> {
  try {
    return await retryUntilDeadline(attempt, {
      what: o.what,
      deadlineMs: o.deadlineMs,
      toError: (error) => toPostgresError(error, o.what),
      initialBackoffMs: Math.max(1, o.backoffMs),
      maxAttempts: o.maxAttempts,
      onRetry: () => {
        o.metrics.retries += 1;
      },
    });
  } catch (error) {
    o.metrics.errors += 1;
    throw error;
  }
}
