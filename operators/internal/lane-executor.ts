import {
  defer,
  Observable,
  Subscription,
  take,
  type OperatorFunction,
  type SchedulerLike,
} from "rxjs";
import type { Outcome } from "../outcome.js";
import type { PressureGauge } from "../pressure-gauge.js";
import { derive, type Record } from "../record.js";
import { SluiceError, toSluiceError, type Stage } from "../sluice-error.js";
import { countedAck } from "./counted-ack.js";
import { Queue } from "./queue.js";
import { timeoutAfter } from "./timeout.js";

/** How records are lined up: per key, per origin partition, or not at all. */
export type Ordering = "key" | "partition" | "unordered";

/** Resolved options of the lane executor shared by keyOrderedMap, enrich, dedupe and parkingLot. */
export interface LaneExecutorOptions<T, R> {
  readonly step: (record: Record<T>) => Observable<R>;
  readonly ordering: Ordering;
  readonly concurrency: number;
  readonly maxBuffered: number;
  readonly timeoutMs: number | undefined;
  readonly scheduler: SchedulerLike;
  readonly stage: Stage;
  readonly gauge: PressureGauge<Record<T>> | undefined;
  /** Hold a key's later records after a failure until the failed record's handle settles. */
  readonly park: boolean;
  /** Operator name used in error messages. */
  readonly name: string;
}

interface Lane<T> {
  readonly id: unknown;
  readonly queue: Queue<Record<T>>;
  /** Running a step or parked behind a failure: the lane's next record must wait. */
  busy: boolean;
}

/** Reads `attempts` from an error's context (set by retryWithBackoff); 1 when absent. */
export function attemptsOf(error: SluiceError): number {
  return error.context.attempts ?? 1;
}

/**
 * The engine behind the keyed operators: per-lane FIFO queues, a global concurrency cap, a
 * per-call timeout and a hard bound on waiting records. Written as `new Observable` because
 * "a slow lane never blocks the others, under one shared cap" is not expressible by
 * composing groupBy/mergeMap without an unbounded queue.
 */
export function laneExecutor<T, R>(
  options: LaneExecutorOptions<T, R>,
): OperatorFunction<Record<T>, Outcome<T, R>> {
  const {
    step,
    ordering,
    concurrency,
    maxBuffered,
    timeoutMs,
    scheduler,
    stage,
    gauge,
    park,
    name,
  } = options;
  const stepName = `${name} step`;
  return (source) =>
    new Observable<Outcome<T, R>>((subscriber) => {
      const lanes = new Map<unknown, Lane<T>>();
      const ready = new Queue<Lane<T>>();
      const running = new Subscription();
      let active = 0;
      let waiting = 0;
      let sourceDone = false;
      let closed = false;
      let draining = false;
      let again = false;

      const laneIdOf = (r: Record<T>): unknown => {
        if (ordering === "key" && r.key !== undefined) return "k" + r.key;
        if (ordering === "partition" && r.origin !== undefined)
          return `p${r.origin.topic}\u0000${r.origin.partition}`;
        return undefined;
      };

      const maybeComplete = (): void => {
        if (!closed && sourceDone && active === 0 && waiting === 0) {
          closed = true;
          subscriber.complete();
        }
      };

      const freeLane = (lane: Lane<T>): void => {
        lane.busy = false;
        if (lane.queue.length > 0) ready.push(lane);
        else if (lane.id !== undefined) lanes.delete(lane.id);
      };

      const run = (lane: Lane<T>): void => {
        const r = lane.queue.shift()!;
        waiting -= 1;
        gauge?.remove(r);
        lane.busy = true;
        active += 1;
        let settled = false;
        let callSub: Subscription | undefined;
        let call = defer(() => step(r)).pipe(take(1));
        if (timeoutMs !== undefined) {
          call = call.pipe(
            timeoutAfter(timeoutMs, scheduler, stepName, () =>
              contextOf(r, stage),
            ),
          );
        }
        const finish = (outcome: Outcome<T, R>): void => {
          if (settled) return;
          settled = true;
          active -= 1;
          if (callSub !== undefined) running.remove(callSub);
          if (outcome.kind === "failed" && park && lane.id !== undefined) {
            // Park the lane: its later records wait until the failed record is settled
            // downstream (dead-lettered, or acked after a successful redelivery).
            const parent = r.ack;
            const held = countedAck({
              done: () => {
                parent.ack();
                release();
              },
              failed: (error) => {
                parent.nack(error);
                release();
              },
            });
            const release = (): void => {
              if (closed) return;
              freeLane(lane);
              drain();
            };
            subscriber.next({
              ...outcome,
              record: { ...outcome.record, ack: held },
            });
          } else {
            subscriber.next(outcome);
            freeLane(lane);
          }
          drain();
        };
        const sub = call.subscribe({
          next: (value) => finish({ kind: "ok", record: derive(r, value) }),
          error: (error: unknown) => {
            const e = toSluiceError(error, "PROCESS", contextOf(r, stage));
            finish({
              kind: "failed",
              record: r,
              error: e,
              stage,
              attempts: attemptsOf(e),
            });
          },
          complete: () => {
            const e = new SluiceError(
              "PROCESS",
              `${name} step completed without a value`,
              { context: contextOf(r, stage) },
            );
            finish({ kind: "failed", record: r, error: e, stage, attempts: 1 });
          },
        });
        if (!settled) {
          callSub = sub;
          running.add(sub);
        }
      };

      const drain = (): void => {
        if (draining) {
          again = true;
          return;
        }
        draining = true;
        try {
          do {
            again = false;
            while (!closed && active < concurrency && ready.length > 0)
              run(ready.shift()!);
          } while (again);
        } finally {
          draining = false;
        }
        maybeComplete();
      };

      const onNext = (r: Record<T>): void => {
        if (
          waiting >= maxBuffered ||
          (gauge !== undefined && !gauge.tryAdd(r))
        ) {
          closed = true;
          subscriber.error(
            new SluiceError(
              "BACKPRESSURE",
              `${name} holds ${waiting} waiting records (maxBuffered ${maxBuffered}); the source must pause on the gauge's signal`,
              {
                retryable: true,
                context: contextOf(r, stage),
              },
            ),
          );
          return;
        }
        waiting += 1;
        const id = laneIdOf(r);
        let lane = id === undefined ? undefined : lanes.get(id);
        if (lane === undefined) {
          lane = { id, queue: new Queue(), busy: false };
          if (id !== undefined) lanes.set(id, lane);
        }
        lane.queue.push(r);
        if (!lane.busy && lane.queue.length === 1) ready.push(lane);
        drain();
      };

      const intake = source.subscribe({
        next: onNext,
        error: (error: unknown) => {
          closed = true;
          subscriber.error(error);
        },
        complete: () => {
          sourceDone = true;
          maybeComplete();
        },
      });

      return () => {
        closed = true;
        intake.unsubscribe();
        running.unsubscribe();
        if (gauge !== undefined) {
          for (const lane of lanes.values())
            for (const r of lane.queue.drain()) gauge.remove(r);
          for (const lane of ready.drain())
            for (const r of lane.queue.drain()) gauge.remove(r);
        }
        lanes.clear();
      };
    });
}

function contextOf<T>(r: Record<T>, stage: Stage): SluiceError["context"] {
  const base = r.key === undefined ? { stage } : { stage, key: r.key };
  return r.origin === undefined
    ? base
    : {
        ...base,
        topic: r.origin.topic,
        partition: r.origin.partition,
        offset: r.origin.offset,
      };
}
