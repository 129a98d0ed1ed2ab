import {
  asyncScheduler,
  type Observable,
  type OperatorFunction,
  type SchedulerLike,
} from "rxjs";
import { laneExecutor, type Ordering } from "./internal/lane-executor.js";
import { positiveInteger, positiveNumber } from "./internal/options.js";
import type { Outcome } from "./outcome.js";
import type { PressureGauge } from "./pressure-gauge.js";
import type { Record } from "./record.js";
import type { Stage } from "./sluice-error.js";

export type { Ordering } from "./internal/lane-executor.js";

/** Options of {@link keyOrderedMap}. */
export interface KeyOrderedMapOptions<T> {
  /** Steps running at once, over all keys. Default 16. */
  readonly concurrency?: number;
  /** `key`: FIFO per key, keys in parallel (keyless records are unordered); `partition`: FIFO per origin partition; `unordered`. Default `key`. */
  readonly ordering?: Ordering;
  /** Time allowed for one call of the step (retries included when the step retries); a late call fails with a retryable TIMEOUT. Default: none. */
  readonly timeoutMs?: number;
  /** Hard cap on records waiting for their turn; one more errors the stream with BACKPRESSURE. Default 1000. */
  readonly maxBuffered?: number;
  /** Gauge fed with the waiting records; the source pauses on its `pause` signal so `maxBuffered` is never reached. */
  readonly gauge?: PressureGauge<Record<T>>;
  /** Scheduler for the timeout. Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
  /** Stage reported on failures. Default `process`. */
  readonly stage?: Stage;
}

/**
 * Runs an asynchronous step per record under one concurrency cap, keeping order per key (or
 * per partition), with a per-call timeout; failures become `failed` outcomes, never errors.
 *
 * A slow key holds only its own queued records; other keys proceed up to the cap. Results
 * are records derived from their input (same ack handle). Backpressure: records waiting for
 * their turn are counted in `gauge`, whose `pause` signal the source obeys; `maxBuffered` is
 * the hard bound behind it, and passing it errors the stream with a retryable BACKPRESSURE
 * (a source that ignores the signal is a bug, and memory must stay flat).
 *
 * @example
 * ```ts
 * records$.pipe(
 *   keyOrderedMap((r) => users.fetch(r.value.userId), { concurrency: 8, timeoutMs: 500, scheduler }),
 *   deadLetter({ policy: "DEAD_LETTER", sink: (dl$) => dlq.write(dl$) }),
 * );
 * ```
 */
export function keyOrderedMap<T, R>(
  step: (record: Record<T>) => Observable<R>,
  options: KeyOrderedMapOptions<T> = {},
): OperatorFunction<Record<T>, Outcome<T, R>> {
  return laneExecutor({
    step,
    ordering: options.ordering ?? "key",
    concurrency: positiveInteger(
      "keyOrderedMap",
      "concurrency",
      options.concurrency ?? 16,
    ),
    maxBuffered: positiveInteger(
      "keyOrderedMap",
      "maxBuffered",
      options.maxBuffered ?? 1000,
    ),
    timeoutMs:
      options.timeoutMs === undefined
        ? undefined
        : positiveNumber("keyOrderedMap", "timeoutMs", options.timeoutMs),
    scheduler: options.scheduler ?? asyncScheduler,
    stage: options.stage ?? "process",
    gauge: options.gauge,
    park: false,
    name: "keyOrderedMap",
  });
}
