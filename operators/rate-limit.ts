import { Observable, type OperatorFunction, type Subscription } from "rxjs";
import { positiveInteger } from "./internal/options.js";
import type { PressureGauge } from "./pressure-gauge.js";
import type { Record } from "./record.js";
import { SluiceError } from "./sluice-error.js";
import type { TokenBucket } from "./token-bucket.js";

/** Options of {@link rateLimit}. */
export interface RateLimitOptions<T> {
  /** The resource's shared bucket; its scheduler times the delays. */
  readonly bucket: TokenBucket;
  /** Tokens a record costs. Default 1. */
  readonly cost?: (record: Record<T>) => number;
  /** Hard cap on records held waiting for tokens; one more errors the stream with BACKPRESSURE. Default 1000. */
  readonly maxQueued?: number;
  /** Gauge fed with the held records, so the source pauses before `maxQueued`. */
  readonly gauge?: PressureGauge<Record<T>>;
}

/**
 * Paces records to a token bucket: each record waits (on the bucket's scheduler) until its
 * tokens are granted, in arrival order. Held records are bounded by `maxQueued` and counted
 * in `gauge`, so pacing turns into backpressure on the source, never into an unbounded queue.
 * For a cap on concurrent calls, put the calls in `keyOrderedMap` (its `concurrency`) after
 * this operator, or call `bucket.acquire()` inside the step.
 *
 * @example
 * ```ts
 * const whatsapp = new TokenBucket({ ratePerSec: 80, burst: 80, scheduler });
 * notifications$.pipe(rateLimit({ bucket: whatsapp, gauge }), keyOrderedMap(send, { concurrency: 8 }));
 * ```
 */
export function rateLimit<T>(
  options: RateLimitOptions<T>,
): OperatorFunction<Record<T>, Record<T>> {
  const { bucket, gauge } = options;
  const cost = options.cost ?? (() => 1);
  const maxQueued = positiveInteger(
    "rateLimit",
    "maxQueued",
    options.maxQueued ?? 1000,
  );

  return (source) =>
    new Observable<Record<T>>((subscriber) => {
      const held = new Map<Subscription, { record: Record<T>; cost: number }>();
      let sourceDone = false;
      const maybeComplete = (): void => {
        if (sourceDone && held.size === 0) subscriber.complete();
      };
      const intake = source.subscribe({
        next: (record) => {
          let c: number;
          let wait: number;
          try {
            c = cost(record);
            wait = bucket.reserve(c);
          } catch (error: unknown) {
            subscriber.error(error);
            return;
          }
          if (wait === 0 && held.size === 0) {
            subscriber.next(record);
            return;
          }
          if (
            held.size >= maxQueued ||
            (gauge !== undefined && !gauge.tryAdd(record))
          ) {
            bucket.refund(c);
            subscriber.error(
              new SluiceError(
                "BACKPRESSURE",
                `rateLimit holds ${held.size} records (maxQueued ${maxQueued}); the source must pause on the gauge's signal`,
                {
                  retryable: true,
                },
              ),
            );
            return;
          }
          // Reservations are granted in order, so later records are due no earlier.
          const action = bucket.scheduler.schedule(() => {
            held.delete(action);
            gauge?.remove(record);
            subscriber.next(record);
            maybeComplete();
          }, wait);
          held.set(action, { record, cost: c });
        },
        error: (error: unknown) => subscriber.error(error),
        complete: () => {
          sourceDone = true;
          maybeComplete();
        },
      });
      return () => {
        intake.unsubscribe();
        for (const [action, h] of held) {
          action.unsubscribe();
          bucket.refund(h.cost);
          gauge?.remove(h.record);
        }
        held.clear();
      };
    });
}
