import { asyncScheduler, type Observable, type OperatorFunction } from "rxjs";
import { laneExecutor } from "./internal/lane-executor.js";
import { positiveInteger, positiveNumber } from "./internal/options.js";
import type { KeyOrderedMapOptions } from "./key-ordered-map.js";
import type { Outcome } from "./outcome.js";
import type { Record } from "./record.js";

/** Options of {@link parkingLot}: those of `keyOrderedMap`, with ordering by key or partition only. */
export interface ParkingLotOptions<T> extends Omit<
  KeyOrderedMapOptions<T>,
  "ordering"
> {
  /** What a failure parks: its key (default) or its whole origin partition. */
  readonly ordering?: "key" | "partition";
}

/**
 * Like `keyOrderedMap`, but a failure parks its key: the key's later records are held
 * (counted against `maxBuffered` and the gauge) until the failed record's handle is settled
 * downstream, that is until it is dead-lettered and the dead-letter sink acks it, or until it
 * is acked after succeeding elsewhere (a retry topic), or nacked for redelivery. So a poison
 * record cannot be overtaken by the records of its key that follow it; other keys go on.
 *
 * The `failed` outcome carries a stand-in ack handle that settles the original and releases
 * the key; keyless records are never parked. If nothing downstream ever settles the failed
 * record, its key stays parked: pair it with `deadLetter`.
 *
 * @example
 * ```ts
 * payments$.pipe(
 *   parkingLot(retryWithBackoff(charge, { budget, scheduler }), { concurrency: 16, scheduler }),
 *   deadLetter({ policy: "DEAD_LETTER", sink: (dl$) => retryTopic.write(dl$) }),
 * );
 * ```
 */
export function parkingLot<T, R>(
  step: (record: Record<T>) => Observable<R>,
  options: ParkingLotOptions<T> = {},
): OperatorFunction<Record<T>, Outcome<T, R>> {
  return laneExecutor({
    step,
    ordering: options.ordering ?? "key",
    concurrency: positiveInteger(
      "parkingLot",
      "concurrency",
      options.concurrency ?? 16,
    ),
    maxBuffered: positiveInteger(
      "parkingLot",
      "maxBuffered",
      options.maxBuffered ?? 1000,
    ),
    timeoutMs:
      options.timeoutMs === undefined
        ? undefined
        : positiveNumber("parkingLot", "timeoutMs", options.timeoutMs),
    scheduler: options.scheduler ?? asyncScheduler,
    stage: options.stage ?? "process",
    gauge: options.gauge,
    park: true,
    name: "parkingLot",
  });
}
