import { Observable, asyncScheduler } from "rxjs";
import type { OperatorFunction, SchedulerLike, Subscription } from "rxjs";
import type { Element } from "./element.js";
import type {
  MapState,
  MapStateDescriptor,
  ValueState,
  ValueStateDescriptor,
} from "./keyed-state.js";
import { memoryStateBackend } from "./memory-state-backend.js";
import { NO_ACK } from "./record.js";
import type { Record } from "./record.js";
import { countedAck } from "./internal/counted-ack.js";
import type { StateBackend, TimerDomain } from "./state-backend.js";
import { statePartitionOf } from "./state-backend.js";
import { SluiceError } from "./sluice-error.js";
import { subscribeEventTime } from "./internal/window-support.js";

/** Stands for `undefined` record keys in the state backend. */
const NO_KEY = "\u0000";

/** Timers of the current key. */
export interface TimerService {
  /** Fires `onTimer` once a watermark reaches `time`. */
  registerEventTime(time: number): void;
  /** Fires `onTimer` once the scheduler's clock reaches `time`. */
  registerProcessingTime(time: number): void;
  deleteEventTime(time: number): void;
  deleteProcessingTime(time: number): void;
}

/** What `process` and `onTimer` see: the current key, its state and timers, the clocks. */
export interface KeyedContext {
  readonly key: string | undefined;
  /** State partition of the current key: its origin's `topic/partition`, `""` without one. */
  readonly partition: string;
  /** The record's timestamp, or the timer's time in `onTimer`. */
  readonly timestamp: number;
  /** Current event-time watermark (`-Infinity` before the first). */
  readonly watermark: number;
  /** Current processing time, from the scheduler. */
  now(): number;
  state<T>(descriptor: ValueStateDescriptor<T>): ValueState<T>;
  state<V>(descriptor: MapStateDescriptor<V>): MapState<V>;
  readonly timers: TimerService;
}

/** The context of `onTimer`: also says which clock fired. */
export interface TimerContext extends KeyedContext {
  readonly domain: TimerDomain;
}

/** What a user function returns: nothing, one record or several. */
export type Outputs<R> = readonly Record<R>[] | Record<R> | undefined | void;

/** Options of {@link keyedProcess}. */
export interface KeyedProcessOptions<T, R> {
  /** Called for each record with the context of its key. */
  readonly process: (record: Record<T>, ctx: KeyedContext) => Outputs<R>;
  /** Called when a timer of a key fires. */
  readonly onTimer?: (timestamp: number, ctx: TimerContext) => Outputs<R>;
  /** Where state and timers live. Default: a fresh {@link memoryStateBackend}. */
  readonly backend?: StateBackend;
  /** Processing time: TTLs and processing-time timers. Default: `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
  /**
   * Period of the sweep that removes expired state (`backend.expire`). Expired entries are
   * never read back either way; the sweep frees those no key reads again. Unset: no sweep.
   */
  readonly ttlSweepIntervalMs?: number;
  /**
   * Delay before an `onTimer` output that a sink nacked is emitted again (see
   * {@link keyedProcess}, _Acknowledgement_). Default 1 000.
   */
  readonly timerOutputBackoffMs?: number;
}

class Context implements TimerContext, TimerService {
  key: string | undefined = undefined;
  stateKey = NO_KEY;
  partition = "";
  timestamp = 0;
  watermark = -Infinity;
  domain: TimerDomain = "event";
  /** Set when a processing-time timer earlier than the scheduled wake-up is registered. */
  onProcessingTimer: (time: number) => void = () => undefined;
  private readonly accessors = new Map<
    object,
    ValueState<unknown> | MapState<unknown>
  >();

  constructor(
    private readonly backend: StateBackend,
    private readonly scheduler: SchedulerLike,
  ) {}

  get timers(): TimerService {
    return this;
  }

  now(): number {
    return this.scheduler.now();
  }

  /** Processing time for state TTLs, read once per record (a clock read per state access cost q4 ~7 %). */
  private nowOfRecord: number | undefined = undefined;
  private stateNow(): number {
    return (this.nowOfRecord ??= this.scheduler.now());
  }

  state<T>(descriptor: ValueStateDescriptor<T>): ValueState<T>;
  state<V>(descriptor: MapStateDescriptor<V>): MapState<V>;
  state(
    descriptor: ValueStateDescriptor<unknown> | MapStateDescriptor<unknown>,
  ): ValueState<unknown> | MapState<unknown> {
    let accessor = this.accessors.get(descriptor);
    if (accessor === undefined) {
      accessor =
        descriptor.kind === "value"
          ? this.valueAccessor(descriptor)
          : this.mapAccessor(descriptor);
      this.accessors.set(descriptor, accessor);
    }
    return accessor;
  }

  private expiry(ttl: number | undefined): number | undefined {
    return ttl === undefined ? undefined : this.stateNow() + ttl;
  }

  private valueAccessor(d: ValueStateDescriptor<unknown>): ValueState<unknown> {
    const { backend } = this;
    const name = d.name;
    return {
      value: () =>
        backend.getValue(this.partition, name, this.stateKey, this.stateNow()),
      update: (value) =>
        backend.setValue(
          this.partition,
          name,
          this.stateKey,
          value,
          this.expiry(d.ttlMs),
        ),
      clear: () => backend.clearValue(this.partition, name, this.stateKey),
    };
  }

  private mapAccessor(d: MapStateDescriptor<unknown>): MapState<unknown> {
    const { backend } = this;
    const name = d.name;
    const entries = () =>
      backend.mapEntries(this.partition, name, this.stateKey, this.stateNow());
    return {
      get: (k) =>
        backend.getMapEntry(
          this.partition,
          name,
          this.stateKey,
          k,
          this.stateNow(),
        ),
      put: (k, v) =>
        backend.setMapEntry(
          this.partition,
          name,
          this.stateKey,
          k,
          v,
          this.expiry(d.ttlMs),
        ),
      remove: (k) =>
        backend.deleteMapEntry(this.partition, name, this.stateKey, k),
      contains: (k) =>
        backend.getMapEntry(
          this.partition,
          name,
          this.stateKey,
          k,
          this.stateNow(),
        ) !== undefined,
      entries,
      keys: () => entries().map(([k]) => k),
      isEmpty: () => entries().length === 0,
      clear: () => backend.clearMap(this.partition, name, this.stateKey),
    };
  }

  registerEventTime(time: number): void {
    this.backend.registerTimer(this.partition, "event", this.stateKey, time);
  }
  registerProcessingTime(time: number): void {
    this.backend.registerTimer(
      this.partition,
      "processing",
      this.stateKey,
      time,
    );
    this.onProcessingTimer(time);
  }
  deleteEventTime(time: number): void {
    this.backend.deleteTimer(this.partition, "event", this.stateKey, time);
  }
  deleteProcessingTime(time: number): void {
    this.backend.deleteTimer(this.partition, "processing", this.stateKey, time);
  }

  enter(partition: string, stateKey: string, timestamp: number): void {
    this.partition = partition;
    this.stateKey = stateKey;
    this.key = stateKey === NO_KEY ? undefined : stateKey;
    this.timestamp = timestamp;
    this.nowOfRecord = undefined;
  }

  /** After the record or timer: state read from elsewhere later reads the clock again. */
  leave(): void {
    this.nowOfRecord = undefined;
  }
}

/**
 * Flink's KeyedProcessFunction for Sluice: a user function sees each record with the state
 * and timers of its key, and `onTimer` runs when an event-time timer is passed by a watermark
 * or a processing-time timer comes due on the scheduler. Watermarks are forwarded after the
 * event-time timers they fire.
 *
 * State is partitioned by the record's origin (`topic/partition`) and key, so
 * `backend.snapshot([partition])` gives the piece to store for one input partition and
 * `backend.restore` brings it back after a rebalance. Keyless records share one key.
 *
 * **Acknowledgement.** Outputs of `process` that carry the input's handle (built with
 * `derive(record, value)`) are its descendants: the operator retains the handle for the
 * extra ones. If none does, the input is acked (its effect lives in state, which is
 * checkpointed with the offsets). An output of `onTimer` built without a handle gets one of
 * the operator's: a fired timer has left the state, so its outputs are held in the backend
 * (`backend.holdOutput`) until a sink acks them, and the checkpoint barrier waits for them as
 * it waits for records in flight, so no checkpoint can hold the timer as fired while its
 * output is lost. A nacked timer output is emitted again after `timerOutputBackoffMs` (the
 * record itself, not the timer: `onTimer` does not run twice). Outputs given a handle by the
 * user keep it.
 *
 * @example
 * ```ts
 * const count = valueState<number>("count");
 * events$.pipe(
 *   withWatermarks({ maxOutOfOrdernessMs: 1_000 }),
 *   keyedProcess({
 *     process: (r, ctx) => {
 *       const s = ctx.state(count);
 *       s.update((s.value() ?? 0) + 1);
 *       ctx.timers.registerEventTime(r.timestamp + 60_000);
 *     },
 *     onTimer: (t, ctx) => record({ key: ctx.key, value: ctx.state(count).value() ?? 0, timestamp: t }),
 *   }),
 * );
 * ```
 */
export function keyedProcess<T, R>(
  options: KeyedProcessOptions<T, R>,
): OperatorFunction<Element<T>, Element<R>> {
  const process = options.process;
  const onTimer = options.onTimer;
  const backend = options.backend ?? memoryStateBackend();
  const scheduler = options.scheduler ?? asyncScheduler;
  const sweepMs = options.ttlSweepIntervalMs;
  if (sweepMs !== undefined && (!Number.isFinite(sweepMs) || sweepMs <= 0)) {
    throw new SluiceError(
      "CONFIG",
      `keyedProcess.ttlSweepIntervalMs must be a positive number, got ${sweepMs}`,
    );
  }
  const backoffMs = options.timerOutputBackoffMs ?? 1_000;
  if (!Number.isFinite(backoffMs) || backoffMs < 0) {
    throw new SluiceError(
      "CONFIG",
      `keyedProcess.timerOutputBackoffMs must be a non-negative number, got ${backoffMs}`,
    );
  }

  return (source) =>
    new Observable<Element<R>>((subscriber) => {
      const ctx = new Context(backend, scheduler);
      let wakeUp: Subscription | undefined;
      let wakeUpAt = Infinity;

      const emitAll = (outputs: Outputs<R>): void => {
        if (outputs === undefined) return;
        if (Array.isArray(outputs))
          for (const o of outputs as readonly Record<R>[]) subscriber.next(o);
        else subscriber.next(outputs as Record<R>);
      };

      // A handle-less timer output is held in the backend until acked; a nack sends the same
      // record again after the backoff, still held (see the summary).
      const retries = new Set<Subscription>();
      const emitHeld = (output: Record<R>, release: () => void): void => {
        const ack = countedAck({
          done: release,
          failed: () => {
            const retry = scheduler.schedule(() => {
              retries.delete(retry);
              if (!subscriber.closed) emitHeld(output, release);
            }, backoffMs);
            retries.add(retry);
          },
        });
        subscriber.next({ ...output, ack });
      };
      const emitTimerOutput = (output: Record<R>): void => {
        if (output.ack !== NO_ACK || backend.holdOutput === undefined)
          subscriber.next(output);
        else emitHeld(output, backend.holdOutput());
      };
      const emitTimerOutputs = (outputs: Outputs<R>): void => {
        if (outputs === undefined) return;
        if (Array.isArray(outputs))
          for (const o of outputs as readonly Record<R>[]) emitTimerOutput(o);
        else emitTimerOutput(outputs as Record<R>);
      };

      const fire = (domain: TimerDomain, upTo: number): void => {
        for (
          let t = backend.pollTimer(domain, upTo);
          t !== undefined;
          t = backend.pollTimer(domain, upTo)
        ) {
          ctx.enter(t.partition, t.key, t.time);
          ctx.domain = domain;
          if (onTimer !== undefined) {
            const outputs = onTimer(t.time, ctx);
            ctx.leave();
            emitTimerOutputs(outputs);
          }
          if (subscriber.closed) return;
        }
      };

      const schedule = (time: number): void => {
        if (time >= wakeUpAt) return;
        wakeUp?.unsubscribe();
        wakeUpAt = time;
        wakeUp = scheduler.schedule(
          () => {
            wakeUp = undefined;
            wakeUpAt = Infinity;
            try {
              fire("processing", scheduler.now());
            } catch (error) {
              subscriber.error(error);
              return;
            }
            const next = backend.nextTimer("processing");
            if (next !== undefined) schedule(next);
          },
          Math.max(0, time - scheduler.now()),
        );
      };
      ctx.onProcessingTimer = schedule;

      const onRecord = (r: Record<T>): void => {
        ctx.enter(
          statePartitionOf(r.origin),
          r.key === undefined ? NO_KEY : r.key,
          r.timestamp,
        );
        const outputs = process(r, ctx);
        ctx.leave();
        const ack = r.ack;
        let descendants = 0;
        if (outputs !== undefined) {
          if (Array.isArray(outputs)) {
            for (const o of outputs as readonly Record<R>[])
              if (o.ack === ack) descendants += 1;
          } else if ((outputs as Record<R>).ack === ack) descendants = 1;
        }
        if (descendants === 0) ack.ack();
        else if (descendants > 1) ack.retain(descendants - 1);
        emitAll(outputs);
      };

      let sweep: Subscription | undefined;
      const sweepInterval = options.ttlSweepIntervalMs;
      if (sweepInterval !== undefined) {
        sweep = scheduler.schedule(function (this: {
          schedule(state?: undefined, delay?: number): void;
        }) {
          backend.expire(scheduler.now());
          this.schedule(undefined, sweepInterval);
        }, sweepInterval);
      }

      const armFromBackend = (): void => {
        const next = backend.nextTimer("processing");
        if (next !== undefined) schedule(next);
      };
      armFromBackend();
      const offRestore = backend.onRestore?.(armFromBackend);

      const subscription = subscribeEventTime(
        source,
        subscriber,
        onRecord,
        (time) => {
          ctx.watermark = time;
          fire("event", time);
        },
      );
      return () => {
        subscription.unsubscribe();
        wakeUp?.unsubscribe();
        sweep?.unsubscribe();
        for (const retry of retries) retry.unsubscribe();
        offRestore?.();
      };
    });
}
