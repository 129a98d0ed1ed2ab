import { Observable } from "rxjs";
import type { OperatorFunction } from "rxjs";
import type { MergeableAggregate } from "./aggregate.js";
import type { Element } from "./element.js";
import { late } from "./element.js";
import type { Origin, Record } from "./record.js";
import type { WindowOutput } from "./tumbling-window.js";
import type { Firing, WindowOptions } from "./window-result.js";
import { AckBag } from "./internal/ack-bag.js";
import { TimeQueue } from "./internal/time-queue.js";
import {
  checkDuration,
  resolveWindowOptions,
  subscribeEventTime,
  tooManyWindows,
  windowRecord,
} from "./internal/window-support.js";

/** Options of {@link sessionWindow}. */
export interface SessionWindowOptions<T, A, R> extends WindowOptions {
  /** A session ends after this much event time without a record of its key. */
  readonly gapMs: number;
  /** Sessions merge their accumulators, so `merge` is required. */
  readonly aggregate: MergeableAggregate<T, A, R>;
}

const OPEN = 0;
const FIRED = 1;

interface Session<A> {
  readonly key: string | undefined;
  start: number;
  end: number;
  acc: A;
  phase: number;
  alive: boolean;
  /**
   * Time of the session's live queue entry, never after its deadline (`end - 1` while open,
   * `end - 1 + lateness` once fired). Extending the session leaves the entry where it is; it
   * is re-queued at the deadline when popped early (lazy deletion), so a record that only
   * extends a session costs no queue work.
   */
  due: number;
  readonly pending: AckBag;
  readonly origin: Origin | undefined;
}

/**
 * Gap-based session windows per key (Flink semantics): each record opens `[t, t + gapMs)`,
 * and sessions that touch or overlap merge, combining their accumulators. A session fires
 * when the watermark reaches `end - 1`; allowed lateness, late firings and late elements work
 * as in {@link tumblingWindow}. A late record can merge sessions that already fired; the
 * merged session fires again.
 *
 * **Acknowledgement.** Each record absorbed is one descendant of its origin. A result carries
 * the handles absorbed into the session (including sessions merged into it) since its
 * previous emission, so an input is done only when a result reflecting it is acked. A late
 * element keeps its record's own handle.
 *
 * @example
 * ```ts
 * clicks$.pipe(
 *   withWatermarks({ maxOutOfOrdernessMs: 5_000 }),
 *   sessionWindow({ gapMs: 30 * 60_000, aggregate: counter() }),
 * );
 * ```
 */
export function sessionWindow<T, A, R>(
  options: SessionWindowOptions<T, A, R>,
): OperatorFunction<Element<T>, WindowOutput<T, R>> {
  const name = "sessionWindow";
  checkDuration(name, "gapMs", options.gapMs, false);
  const { lateness, onUpdate, maxOpen } = resolveWindowOptions(name, options);
  const gap = options.gapMs;
  const aggregate = options.aggregate;

  return (source) =>
    new Observable<WindowOutput<T, R>>((subscriber) => {
      const keys = new Map<string | undefined, Session<A>[]>();
      const queue = new TimeQueue<Session<A>>();
      let watermark = -Infinity;
      let open = 0;

      const emit = (s: Session<A>, firing: Firing): void => {
        subscriber.next(
          windowRecord(
            s.key,
            s.start,
            s.end,
            aggregate.result(s.acc),
            firing,
            s.origin,
            s.pending.take(),
          ),
        );
      };

      const remove = (s: Session<A>): void => {
        s.alive = false;
        open -= 1;
        const list = keys.get(s.key)!;
        list.splice(list.indexOf(s), 1);
        if (list.length === 0) keys.delete(s.key);
      };

      const onTime = (s: Session<A>, time: number): void => {
        // a session merged away or removed, or an entry superseded by an earlier one
        if (!s.alive || s.due !== time) return;
        const last = s.end - 1;
        const deadline = s.phase === OPEN ? last : last + lateness;
        if (deadline > time) {
          // extended since it was queued: wait for the new deadline
          s.due = deadline;
          queue.add(deadline, s);
        } else if (s.phase === OPEN) {
          if (!onUpdate) emit(s, "on-time");
          if (lateness === 0) remove(s);
          else {
            s.phase = FIRED;
            s.due = time + lateness;
            queue.add(time + lateness, s);
          }
        } else remove(s);
      };

      const onRecord = (r: Record<T>): void => {
        const t = r.timestamp;
        const end = t + gap;
        let list = keys.get(r.key);
        let target: Session<A> | undefined;
        let before = -Infinity;
        if (list !== undefined) {
          for (let i = 0; i < list.length;) {
            const s = list[i]!;
            if (s.start <= end && t <= s.end) {
              if (target === undefined) {
                target = s;
                before = s.end;
                i += 1;
              } else {
                target.acc = aggregate.merge(target.acc, s.acc);
                target.pending.absorb(s.pending);
                if (s.start < target.start) target.start = s.start;
                if (s.end > target.end) target.end = s.end;
                s.alive = false;
                open -= 1;
                list.splice(i, 1);
              }
            } else i += 1;
          }
        }
        if (target === undefined) {
          if (end - 1 + lateness <= watermark) {
            subscriber.next(late(r));
            return;
          }
          if (open >= maxOpen) throw tooManyWindows(name, maxOpen);
          if (list === undefined) {
            list = [];
            keys.set(r.key, list);
          }
          target = {
            key: r.key,
            start: t,
            end,
            acc: aggregate.create(),
            phase: OPEN,
            alive: true,
            due: Infinity,
            pending: new AckBag(),
            origin: r.origin,
          };
          list.push(target);
          open += 1;
        }
        if (t < target.start) target.start = t;
        if (end > target.end) target.end = end;
        if (target.end !== before) {
          const last = target.end - 1;
          let deadline = last;
          if (last <= watermark) {
            target.phase = FIRED;
            deadline += lateness;
          } else target.phase = OPEN;
          // A later deadline keeps the queued entry (re-queued when it comes due); only an
          // earlier one, a new session or a fired session re-opened, needs an entry now.
          if (deadline < target.due) {
            target.due = deadline;
            queue.add(deadline, target);
          }
        }
        target.acc = aggregate.add(target.acc, r.value);
        target.pending.add(r.ack);
        if (target.phase === FIRED) emit(target, "late");
        else if (onUpdate) emit(target, "update");
      };

      const advance = (time: number): void => {
        watermark = time;
        queue.drain(time, onTime);
      };

      return subscribeEventTime(source, subscriber, onRecord, advance);
    });
}
