import { setTimeout as delay } from "node:timers/promises";
import { SluiceError } from "../../operators/sluice-error.js";
import type { PostgresMetrics } from "./metrics.js";

/**
 * Calls `attempt` up to `maxAttempts` times while it fails with a retryable SluiceError,
 * doubling the delay each time; counts retries and the final failure in `metrics`.
 *
 * @example
 * ```ts
 * await withRetries(() => writeOnce(batch), { maxAttempts: 3, backoffMs: 100, metrics });
 * ```
 */
export async function withRetries<R>(
  attempt: () => Promise<R>,
  o: {
    readonly maxAttempts: number;
    readonly backoffMs: number;
    readonly metrics: PostgresMetrics;
  },
): Promise<R> {
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (error) {
      const retryable = error instanceof SluiceError && error.retryable;
      if (!retryable || n >= o.maxAttempts) {
        o.metrics.errors += 1;
        if (error instanceof SluiceError && n > 1)
          throw new SluiceError(error.code, error.message, {
            retryable: error.retryable,
            cause: error.cause ?? error,
            context: { ...error.context, attempts: n },
          });
        throw error;
      }
      o.metrics.retries += 1;
      await delay(o.backoffMs * 2 ** (n - 1));
    }
  }
}
