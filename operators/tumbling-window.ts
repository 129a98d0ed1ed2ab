import { Observable } from "rxjs";
import type { OperatorFunction } from "rxjs";
import type { Aggregate } from "./aggregate.js";
import type { Element, Late } from "./element.js";
import { late } from "./element.js";
import type { Origin, Record } from "./record.js";
import type { Firing, WindowOptions, WindowResult } from "./window-result.js";
import { AckBag } from "./internal/ack-bag.js";
import { TimeQueue } from "./internal/time-queue.js";
import {
  alignDown,
  checkDuration,
  resolveWindowOptions,
  subscribeEventTime,
  tooManyWindows,
  windowOffset,
  windowRecord,
} from "./internal/window-support.js";

/** Options of {@link tumblingWindow}. */
export interface TumblingWindowOptions<T, A, R> extends WindowOptions {
  /** Window length, event-time milliseconds. */
  readonly sizeMs: number;
  /**
   * Shift of window starts from the epoch (e.g. for time zones: `-8 * 3_600_000` starts days
   * at midnight in UTC+8, as Flink's `Time.hours(-8)`). Any integer, taken modulo the size.
   * Default 0.
   */
  readonly offsetMs?: number;
  readonly aggregate: Aggregate<T, A, R>;
}

/** What a window operator emits: results and forwarded watermarks, and late records. */
export type WindowOutput<T, R> = Element<WindowResult<R>> | Late<T>;

const OPEN = 0;
const FIRED = 1;

interface Window<A> {
  readonly key: string | undefined;
  readonly start: number;
  acc: A;
  phase: number;
  readonly pending: AckBag;
  readonly origin: Origin | undefined;
}

interface KeyWindows<A> {
  last: Window<A> | undefined;
  readonly windows: Map<number, Window<A>>;
}

/**
 * Fixed, non-overlapping event-time windows per key (`record.key`), aggregated incrementally
 * and fired by watermarks (Flink semantics).
 *
 * A window `[start, end)` fires when a watermark reaches `end - 1`, emitting a record with
 * value {@link WindowResult} and timestamp `end - 1`; the watermark is then forwarded. The
 * window is kept `allowedLatenessMs` longer: a record arriving meanwhile updates it and
 * re-fires it at once (`firing: "late"`). A record whose window is already cleaned up is
 * emitted once as a {@link Late} element (use {@link routeLate} to handle them). With
 * `emit: "on-update"` a result follows every record (`firing: "update"`, then `"late"`).
 *
 * **Acknowledgement.** A record absorbed into a window is one descendant of its origin. Each
 * result carries one handle standing for the inputs absorbed into that window since its
 * previous emission: on close, all of them; on update, the one record; on a late firing, the
 * late record. So an input is done only when a result reflecting it is acked; an open window
 * holds its inputs' handles until it fires. A late element keeps its record's own handle.
 *
 * @example
 * ```ts
 * source$.pipe(
 *   withWatermarks({ maxOutOfOrdernessMs: 2_000 }),
 *   tumblingWindow({ sizeMs: 60_000, allowedLatenessMs: 10_000, aggregate: counter() }),
 *   routeLate((late$) => late$.pipe(tap((r) => deadLetter(r)))),
 * );
 * ```
 */
export function tumblingWindow<T, A, R>(
  options: TumblingWindowOptions<T, A, R>,
): OperatorFunction<Element<T>, WindowOutput<T, R>> {
  const name = "tumblingWindow";
  checkDuration(name, "sizeMs", options.sizeMs, false);
  const { lateness, onUpdate, maxOpen } = resolveWindowOptions(name, options);
  const size = options.sizeMs;
  const offset = windowOffset(name, options.offsetMs, size);
  const aggregate = options.aggregate;

  return (source) =>
    new Observable<WindowOutput<T, R>>((subscriber) => {
      const keys = new Map<string | undefined, KeyWindows<A>>();
      const queue = new TimeQueue<Window<A>>();
      let watermark = -Infinity;
      let open = 0;

      const emit = (w: Window<A>, firing: Firing): void => {
        const result = aggregate.result(w.acc);
        subscriber.next(
          windowRecord(
            w.key,
            w.start,
            w.start + size,
            result,
            firing,
            w.origin,
            w.pending.take(),
          ),
        );
      };

      const cleanup = (w: Window<A>): void => {
        const kw = keys.get(w.key)!;
        kw.windows.delete(w.start);
        if (kw.last === w) kw.last = undefined;
        if (kw.windows.size === 0) keys.delete(w.key);
        open -= 1;
      };

      const onTime = (w: Window<A>, time: number): void => {
        if (w.phase === OPEN) {
          if (!onUpdate) emit(w, "on-time");
          if (lateness === 0) cleanup(w);
          else {
            w.phase = FIRED;
            queue.add(time + lateness, w);
          }
        } else cleanup(w);
      };

      const onRecord = (r: Record<T>): void => {
        const t = r.timestamp;
        const start = alignDown(t, size, offset);
        const last = start + size - 1;
        if (last + lateness <= watermark) {
          subscriber.next(late(r));
          return;
        }
        let kw = keys.get(r.key);
        if (kw === undefined) {
          kw = { last: undefined, windows: new Map() };
          keys.set(r.key, kw);
        }
        let w = kw.last;
        if (w === undefined || w.start !== start) {
          w = kw.windows.get(start);
          if (w === undefined) {
            if (open >= maxOpen) throw tooManyWindows(name, maxOpen);
            const fired = last <= watermark;
            w = {
              key: r.key,
              start,
              acc: aggregate.create(),
              phase: fired ? FIRED : OPEN,
              pending: new AckBag(),
              origin: r.origin,
            };
            kw.windows.set(start, w);
            queue.add(fired ? last + lateness : last, w);
            open += 1;
          }
          kw.last = w;
        }
        w.acc = aggregate.add(w.acc, r.value);
        w.pending.add(r.ack);
        if (w.phase === FIRED) emit(w, "late");
        else if (onUpdate) emit(w, "update");
      };

      const advance = (time: number): void => {
        watermark = time;
        queue.drain(time, onTime);
      };

      return subscribeEventTime(source, subscriber, onRecord, advance);
    });
}
