import { Observable } from "rxjs";
import type { OperatorFunction } from "rxjs";
import type { MergeableAggregate } from "./aggregate.js";
import type { Element } from "./element.js";
import { late } from "./element.js";
import type { AckHandle, Origin, Record } from "./record.js";
import type { WindowOutput } from "./tumbling-window.js";
import type { Firing, WindowOptions } from "./window-result.js";
import { PaneAckBag, PaneShares } from "./internal/ack-bag.js";
import { TimeQueue } from "./internal/time-queue.js";
import {
  alignDown,
  checkDuration,
  resolveWindowOptions,
  subscribeEventTime,
  tooManyWindows,
  windowRecord,
} from "./internal/window-support.js";

/** Options of {@link slidingWindow}. */
export interface SlidingWindowOptions<T, A, R> extends WindowOptions {
  /** Window length, event-time milliseconds. */
  readonly sizeMs: number;
  /** Distance between window starts, event-time milliseconds. */
  readonly slideMs: number;
  /** Shift of window starts from the epoch. Default 0. */
  readonly offsetMs?: number;
  /** Panes are combined with `merge`, so it is required. */
  readonly aggregate: MergeableAggregate<T, A, R>;
}

const OPEN = 0;
const FIRED = 1;

interface Pane<A> {
  readonly key: string | undefined;
  readonly start: number;
  acc: A;
  /** Handles of the records waiting for an open window this pane is in. */
  readonly pending: PaneAckBag;
}

interface Window {
  readonly key: string | undefined;
  readonly start: number;
  phase: number;
  readonly origin: Origin | undefined;
}

interface KeyState<A> {
  readonly panes: Map<number, Pane<A>>;
  readonly windows: Map<number, Window>;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/**
 * Overlapping event-time windows of `sizeMs` starting every `slideMs`, per key, fired by
 * watermarks with allowed lateness and late records handed on, like {@link tumblingWindow}.
 *
 * State is kept per pane of `gcd(sizeMs, slideMs)`: each record is added to one pane's
 * accumulator and one pane's pending ack bag, not to every window it falls in, and a firing
 * merges the window's panes. Window objects (origin, phase, firing time) are only looked up
 * when a record starts a new pane or is emitted at once (late firing, on update).
 *
 * **Acknowledgement.** A record falling in `n` live windows becomes `n` descendants of its
 * origin (the operator retains `n - 1`); each window result carries the handles absorbed
 * into that window since its previous emission (on close: all; on update or a late firing:
 * the one record). A late element keeps its record's own handle. The pane's bag is shared
 * by the windows the pane is in: a window closing takes one share of every handle in each
 * of its panes' bags (all were absorbed while it was open), and the bag only grows, so a
 * later window's share also covers records that arrived after the earlier one closed.
 *
 * @example
 * ```ts
 * events$.pipe(
 *   withWatermarks({ maxOutOfOrdernessMs: 1_000 }),
 *   slidingWindow({ sizeMs: 60_000, slideMs: 10_000, aggregate: counter() }),
 * );
 * ```
 */
export function slidingWindow<T, A, R>(
  options: SlidingWindowOptions<T, A, R>,
): OperatorFunction<Element<T>, WindowOutput<T, R>> {
  const name = "slidingWindow";
  checkDuration(name, "sizeMs", options.sizeMs, false);
  checkDuration(name, "slideMs", options.slideMs, false);
  checkDuration(name, "offsetMs", options.offsetMs, true);
  const { lateness, onUpdate, maxOpen } = resolveWindowOptions(name, options);
  const size = options.sizeMs;
  const slide = options.slideMs;
  const pane = gcd(size, slide);
  const offset = (options.offsetMs ?? 0) % pane;
  const aggregate = options.aggregate;

  return (source) =>
    new Observable<WindowOutput<T, R>>((subscriber) => {
      const keys = new Map<string | undefined, KeyState<A>>();
      const windowQueue = new TimeQueue<Window>();
      const paneQueue = new TimeQueue<Pane<A>>();
      let watermark = -Infinity;
      let windowCount = 0;

      /** Emits `w` merged from its panes; `ack` undefined: a share of each pane's pending. */
      const emit = (
        ks: KeyState<A>,
        w: Window,
        firing: Firing,
        ack: AckHandle | undefined,
      ): void => {
        let acc = aggregate.create();
        const shares = ack === undefined ? new PaneShares() : undefined;
        for (let p = w.start, end = w.start + size; p < end; p += pane) {
          const found = ks.panes.get(p);
          if (found !== undefined) {
            acc = aggregate.merge(acc, found.acc);
            if (shares !== undefined) shares.take(found.pending);
          }
        }
        subscriber.next(
          windowRecord(
            w.key,
            w.start,
            w.start + size,
            aggregate.result(acc),
            firing,
            w.origin,
            ack ?? shares!.single() ?? shares!,
          ),
        );
      };

      const forget = (ks: KeyState<A>, key: string | undefined): void => {
        if (ks.windows.size === 0 && ks.panes.size === 0) keys.delete(key);
      };

      const onWindowTime = (w: Window, time: number): void => {
        const ks = keys.get(w.key)!;
        if (w.phase === OPEN) {
          if (!onUpdate) emit(ks, w, "on-time", undefined);
          if (lateness > 0) {
            w.phase = FIRED;
            windowQueue.add(time + lateness, w);
            return;
          }
        }
        ks.windows.delete(w.start);
        windowCount -= 1;
        forget(ks, w.key);
      };

      const onPaneTime = (p: Pane<A>): void => {
        const ks = keys.get(p.key)!;
        ks.panes.delete(p.start);
        forget(ks, p.key);
      };

      const onRecord = (r: Record<T>): void => {
        const t = r.timestamp;
        const lastStart = alignDown(t, slide, offset);
        // live windows are those not yet cleaned up: a prefix of the starts, newest first;
        // the open ones (not fired yet) are a prefix of those
        let live = 0;
        let unfired = 0;
        for (
          let s = lastStart;
          s > t - size && s + size - 1 + lateness > watermark;
          s -= slide
        ) {
          live += 1;
          if (s + size - 1 > watermark) unfired += 1;
        }
        if (live === 0) {
          subscriber.next(late(r));
          return;
        }
        let ks = keys.get(r.key);
        if (ks === undefined) {
          ks = { panes: new Map(), windows: new Map() };
          keys.set(r.key, ks);
        }
        const paneStart = alignDown(t, pane, offset);
        let p = ks.panes.get(paneStart);
        const fresh = p === undefined;
        if (p === undefined) {
          p = {
            key: r.key,
            start: paneStart,
            acc: aggregate.create(),
            pending: new PaneAckBag(),
          };
          ks.panes.set(paneStart, p);
          paneQueue.add(
            alignDown(paneStart, slide, offset) + size - 1 + lateness,
            p,
          );
        }
        p.acc = aggregate.add(p.acc, r.value);
        const ack = r.ack;
        if (live > 1) ack.retain(live - 1);
        // The record is in `live` windows. The open ones take it from the pane's pending
        // bag when they fire; the fired ones (and, on update, all) are emitted now. Only a
        // new pane can be the first record of a window: windows exist while a pane of theirs
        // does, so only then (or to emit) are the windows looked up.
        const skip = fresh || onUpdate ? 0 : unfired;
        for (let i = 0, s = lastStart; i < live; i++, s -= slide) {
          if (i < skip) continue;
          let w = ks.windows.get(s);
          if (w === undefined) {
            if (windowCount >= maxOpen) throw tooManyWindows(name, maxOpen);
            const last = s + size - 1;
            const fired = last <= watermark;
            w = {
              key: r.key,
              start: s,
              phase: fired ? FIRED : OPEN,
              origin: r.origin,
            };
            ks.windows.set(s, w);
            windowQueue.add(fired ? last + lateness : last, w);
            windowCount += 1;
          }
          if (w.phase === FIRED) emit(ks, w, "late", ack);
          else if (onUpdate) emit(ks, w, "update", ack);
        }
        if (unfired > 0 && !onUpdate) p.pending.add(ack);
      };

      const advance = (time: number): void => {
        watermark = time;
        windowQueue.drain(time, onWindowTime);
        paneQueue.drain(time, onPaneTime);
      };

      return subscribeEventTime(source, subscriber, onRecord, advance);
    });
}
