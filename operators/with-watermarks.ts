import { Observable, Subscription, asyncScheduler } from "rxjs";
import type { OperatorFunction, SchedulerLike } from "rxjs";
import type { Element } from "./element.js";
import { watermark } from "./element.js";
import { ownerOf } from "./partition-owner.js";
import type { OwnershipEvent, PartitionOwner } from "./partition-owner.js";
import type { Record } from "./record.js";
import { SluiceError } from "./sluice-error.js";

/** Options of {@link withWatermarks}. */
export interface WithWatermarksOptions<T> {
  /** How far behind the highest timestamp seen a record may still arrive in order. */
  readonly maxOutOfOrdernessMs: number;
  /**
   * A partition that sends nothing for this long (processing time, by the scheduler) is
   * idle: it no longer holds the watermark back. Unset: partitions never go idle.
   */
  readonly idleTimeoutMs?: number;
  /**
   * What to do when every partition is idle. `"hold"` (default) keeps the watermark where
   * it is, so open windows wait for the next record. `"advance-with-wall-clock"` moves it
   * to `scheduler.now() - maxOutOfOrdernessMs - 1` every `wallClockIntervalMs`, so windows
   * still close on a quiet stream.
   */
  readonly allIdle?: "hold" | "advance-with-wall-clock";
  /**
   * Asked when a partition has been silent for `idleTimeoutMs`: has its source read
   * everything there is (no lag)? `false` keeps it active, holding the watermark back, and
   * it is asked again after another `idleTimeoutMs`; the wall-clock advance of `allIdle`
   * also waits while any partition answers `false`. So a job reading a backlog that pauses
   * (a slow lookup, a full in-flight cap, a rebalance) does not close windows early.
   * `undefined` (don't know) counts as caught up. Unset: the record's source is asked
   * (`ownerOf(origin).isCaughtUp`; the Kafka and memory sources answer it); for records
   * without a linked origin silence alone makes a partition idle.
   */
  readonly isCaughtUp?: (partition: {
    readonly topic: string;
    readonly partition: number;
  }) => boolean | undefined;
  /** Period of wall-clock advances while all partitions are idle. Default: `idleTimeoutMs`. */
  readonly wallClockIntervalMs?: number;
  /**
   * `0` (default): a watermark is emitted right after a record that advances it.
   * Above `0`: the watermark is emitted at most once per period, by the scheduler
   * (Flink's `autoWatermarkInterval`), which costs less on in-order streams.
   */
  readonly emitIntervalMs?: number;
  /**
   * On completion of the source: `"final-watermark"` (default) emits a watermark at
   * `+Infinity`, so every window fires, as for a bounded input; `"none"` completes without
   * it (a streaming job stopping to be restored later).
   */
  readonly onComplete?: "final-watermark" | "none";
  /** Event time of a record. Default: `record.timestamp`. */
  readonly timestampOf?: (record: Record<T>) => number;
  /** Source of processing time. Default: `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
}

interface Input {
  maxTimestamp: number;
  lastSeen: number;
  /** Counts in the minimum: assigned or sending, and not idle. */
  active: boolean;
  /** Revoked by its owner: counts no more, and its records neither, until assigned again. */
  revoked: boolean;
  /** The source that assigned it (or sent its first record), if its origins are linked. */
  owner: PartitionOwner | undefined;
  /** Assigned, or sent a record: known to count (not merely created by a lookup). */
  seen: boolean;
  /** The partition, for `isCaughtUp`; undefined for records without an origin. */
  readonly tp:
    { readonly topic: string; readonly partition: number } | undefined;
}

function positive(
  value: number | undefined,
  field: string,
  allowZero: boolean,
): void {
  if (value === undefined) return;
  if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new SluiceError(
      "CONFIG",
      `withWatermarks.${field} must be a ${allowZero ? "non-negative" : "positive"} finite number, got ${value}`,
    );
  }
}

/**
 * Interleaves event-time watermarks with the records of a stream: bounded out-of-orderness
 * per input partition (`record.origin.partition` of each topic; records without an origin
 * are one input), the watermark being the minimum over the active partitions.
 *
 * A partition's watermark is its highest timestamp minus `maxOutOfOrdernessMs` minus 1 (as
 * Flink). The partitions are those the stream's sources own: at the first record of a source
 * whose origins are linked to it (`ownerOf`, as the memory and Kafka sources build them), the
 * operator follows that source's `assignments()`. An assigned partition that has sent
 * nothing yet holds the watermark where it is (as a Flink split starting at
 * `Long.MIN_VALUE`), so a partition whose backlog is read last is not late; a revoked one
 * stops counting at once. A partition silent for `idleTimeoutMs` (from its last record, or
 * from its assignment) is idle and excluded from the minimum until it sends again, unless
 * its source says it still has records to read (`isCaughtUp`). When every partition is idle,
 * `allIdle` decides: hold, or advance with the scheduler's clock so windows close on wall
 * clock (never while any partition has a backlog). Watermarks are monotonic: a partition
 * coming back behind the others never moves it back. On completion a final watermark at
 * `+Infinity` fires every window (`onComplete`). Records pass through untouched (their ack
 * handles too).
 *
 * @example
 * ```ts
 * source$.pipe(
 *   withWatermarks({ maxOutOfOrdernessMs: 5_000, idleTimeoutMs: 60_000, allIdle: "advance-with-wall-clock" }),
 *   tumblingWindow({ sizeMs: 60_000, aggregate: counter() }),
 * );
 * ```
 */
export function withWatermarks<T>(
  options: WithWatermarksOptions<T>,
): OperatorFunction<Record<T>, Element<T>> {
  const bound = options.maxOutOfOrdernessMs;
  positive(bound, "maxOutOfOrdernessMs", true);
  positive(options.idleTimeoutMs, "idleTimeoutMs", false);
  positive(options.wallClockIntervalMs, "wallClockIntervalMs", false);
  positive(options.emitIntervalMs, "emitIntervalMs", true);
  const idleTimeout = options.idleTimeoutMs;
  const advanceOnIdle = options.allIdle === "advance-with-wall-clock";
  if (advanceOnIdle && idleTimeout === undefined) {
    throw new SluiceError(
      "CONFIG",
      'withWatermarks.idleTimeoutMs must be set when allIdle is "advance-with-wall-clock"',
    );
  }
  const wallClockInterval = options.wallClockIntervalMs ?? idleTimeout ?? 0;
  const emitInterval = options.emitIntervalMs ?? 0;
  const finalWatermark =
    (options.onComplete ?? "final-watermark") === "final-watermark";
  const timestampOf = options.timestampOf;
  const isCaughtUp = options.isCaughtUp;
  /** False only when the source says the partition still has records to read. */
  const caughtUp = (input: Input): boolean => {
    const tp = input.tp;
    if (tp === undefined) return true;
    if (isCaughtUp !== undefined) return isCaughtUp(tp) !== false;
    const owner = input.owner;
    return owner?.isCaughtUp === undefined || owner.isCaughtUp(tp) !== false;
  };
  const scheduler = options.scheduler ?? asyncScheduler;

  return (source) =>
    new Observable<Element<T>>((subscriber) => {
      const topics = new Map<string, Map<number, Input>>();
      const inputs: Input[] = [];
      /** Sources whose assignments are followed, with their subscriptions. */
      const owners = new Map<PartitionOwner, Subscription>();
      let unpartitioned: Input | undefined;
      let activeCount = 0;
      /** Last emitted watermark. */
      let emitted = -Infinity;
      /** Current combined watermark, maybe not yet emitted (periodic mode). */
      let current = -Infinity;
      let idleTimer: Subscription | undefined;
      let wallClockTimer: Subscription | undefined;
      let periodic: Subscription | undefined;

      const emit = (): void => {
        if (current > emitted) {
          emitted = current;
          subscriber.next(watermark(current));
        }
      };

      const recompute = (): void => {
        let min = Infinity;
        for (let i = 0; i < inputs.length; i++) {
          const input = inputs[i]!;
          if (input.active && input.maxTimestamp < min)
            min = input.maxTimestamp;
        }
        if (min === Infinity) return; // nothing active: hold (the wall clock may advance it)
        const candidate = min - bound - 1;
        if (candidate > current) current = candidate;
      };

      const stopWallClock = (): void => {
        wallClockTimer?.unsubscribe();
        wallClockTimer = undefined;
      };

      const advanceWithWallClock = (): void => {
        // A backlog not read yet would be late behind a wall-clock watermark.
        for (let i = 0; i < inputs.length; i++) {
          const input = inputs[i]!;
          if (!input.revoked && !caughtUp(input)) return;
        }
        const candidate = scheduler.now() - bound - 1;
        if (candidate > current) current = candidate;
        emit();
      };

      const checkIdle = (): void => {
        idleTimer = undefined;
        const now = scheduler.now();
        let nextDeadline = Infinity;
        let changed = false;
        for (let i = 0; i < inputs.length; i++) {
          const input = inputs[i]!;
          if (!input.active) continue;
          let deadline = input.lastSeen + idleTimeout!;
          if (deadline <= now && !caughtUp(input)) {
            // Silent, but with records still to read: not idle; ask again later.
            input.lastSeen = now;
            deadline = now + idleTimeout!;
          }
          if (deadline <= now) {
            input.active = false;
            activeCount -= 1;
            changed = true;
          } else if (deadline < nextDeadline) nextDeadline = deadline;
        }
        if (changed) {
          recompute();
          emit();
        }
        if (nextDeadline !== Infinity) {
          idleTimer = scheduler.schedule(checkIdle, nextDeadline - now);
        } else startWallClockIfAllIdle();
      };

      const startWallClockIfAllIdle = (): void => {
        if (activeCount !== 0 || !advanceOnIdle || wallClockTimer !== undefined)
          return;
        advanceWithWallClock();
        wallClockTimer = scheduler.schedule(function (this: {
          schedule(state?: undefined, delay?: number): void;
        }) {
          advanceWithWallClock();
          this.schedule(undefined, wallClockInterval);
        }, wallClockInterval);
      };

      /** A partition starts counting: assigned, or its first record (again). */
      const activate = (input: Input, now: number): void => {
        if (!input.active) {
          input.active = true;
          activeCount += 1;
          if (wallClockTimer !== undefined) stopWallClock();
        }
        if (idleTimeout !== undefined) {
          input.lastSeen = now;
          if (idleTimer === undefined)
            idleTimer = scheduler.schedule(checkIdle, idleTimeout);
        }
      };

      const onOwnership = (owner: PartitionOwner, e: OwnershipEvent): void => {
        const now = idleTimeout === undefined ? 0 : scheduler.now();
        let revoked = false;
        for (const tp of e.partitions) {
          const input = partitionInput(tp.topic, tp.partition);
          if (e.type === "assigned") {
            if (input.owner === owner && !input.revoked && input.seen) continue;
            // New, or assigned again after a revoke: it holds the watermark where it is
            // until its first record, or until it is idle.
            input.owner = owner;
            input.revoked = false;
            input.maxTimestamp = -Infinity;
            input.seen = true;
            activate(input, now);
          } else if (input.owner === owner && !input.revoked) {
            input.revoked = true;
            if (input.active) {
              input.active = false;
              activeCount -= 1;
            }
            revoked = true;
          }
        }
        if (revoked) {
          recompute();
          if (emitInterval === 0) emit();
          startWallClockIfAllIdle();
        }
      };

      /** Follows the assignments of a source seen for the first time. */
      const follow = (owner: PartitionOwner): void => {
        const subscription = new Subscription();
        owners.set(owner, subscription);
        subscription.add(
          owner.assignments().subscribe({
            next: (e) => onOwnership(owner, e),
            // The source reports its own failure on its record stream.
            error: () => undefined,
          }),
        );
      };

      let lastTopic: string | undefined;
      let lastPartition = -1;
      let lastInput: Input | undefined;

      const inputOf = (r: Record<T>): Input => {
        const origin = r.origin;
        // runs of records from one partition are the common case: skip the map lookups
        if (
          origin !== undefined &&
          origin.partition === lastPartition &&
          origin.topic === lastTopic
        )
          return lastInput!;
        if (origin === undefined) {
          if (unpartitioned === undefined) unpartitioned = newInput(undefined);
          return unpartitioned;
        }
        const owner = ownerOf(origin);
        if (owner !== undefined && !owners.has(owner)) follow(owner);
        const input = partitionInput(origin.topic, origin.partition);
        if (input.owner === undefined) input.owner = owner;
        lastTopic = origin.topic;
        lastPartition = origin.partition;
        lastInput = input;
        return input;
      };

      const partitionInput = (topic: string, partition: number): Input => {
        let partitions = topics.get(topic);
        if (partitions === undefined) {
          partitions = new Map();
          topics.set(topic, partitions);
        }
        let input = partitions.get(partition);
        if (input === undefined) {
          input = newInput({ topic, partition });
          partitions.set(partition, input);
        }
        return input;
      };

      const newInput = (tp: Input["tp"]): Input => {
        const input: Input = {
          maxTimestamp: -Infinity,
          lastSeen: 0,
          active: false,
          revoked: false,
          seen: false,
          owner: undefined,
          tp,
        };
        inputs.push(input);
        return input;
      };

      if (emitInterval > 0) {
        periodic = scheduler.schedule(function (this: {
          schedule(state?: undefined, delay?: number): void;
        }) {
          emit();
          this.schedule(undefined, emitInterval);
        }, emitInterval);
      }

      const subscription = source.subscribe({
        next(r) {
          let t: number;
          let input: Input;
          try {
            t = timestampOf === undefined ? r.timestamp : timestampOf(r);
            input = inputOf(r);
          } catch (error) {
            subscriber.error(error);
            return;
          }
          if (input.revoked) {
            // Its owner gave it up: it no longer holds (nor moves) the watermark.
            subscriber.next(r);
            return;
          }
          let advanced = false;
          if (!input.active) {
            // (an active input has been seen: assigned, or sent before)
            input.seen = true;
            advanced = true;
            activate(input, scheduler.now());
          } else if (idleTimeout !== undefined)
            input.lastSeen = scheduler.now();
          if (t > input.maxTimestamp) {
            input.maxTimestamp = t;
            advanced = true;
          }
          subscriber.next(r);
          if (advanced) {
            recompute();
            if (emitInterval === 0) emit();
          }
        },
        error(error) {
          subscriber.error(error);
        },
        complete() {
          if (finalWatermark) {
            current = Infinity;
            emit();
          } else if (emitInterval > 0) emit();
          subscriber.complete();
        },
      });

      return () => {
        subscription.unsubscribe();
        for (const s of owners.values()) s.unsubscribe();
        idleTimer?.unsubscribe();
        stopWallClock();
        periodic?.unsubscribe();
      };
    });
}
