import { Observable } from "rxjs";
import type { OperatorFunction } from "rxjs";
import type { MergeableAggregate } from "./aggregate.js";
import type { Element } from "./element.js";
import { late } from "./element.js";
import type { AckHandle, Origin, Record } from "./record.js";
import type { WindowOutput } from "./tumbling-window.js";
import type { Firing, WindowOptions } from "./window-result.js";
import { PaneAckBag } from "./internal/ack-bag.js";
import { PaneShares } from "./internal/pane-shares.js";
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

/** Options of {@link slidingWindow}. */
export interface SlidingWindowOptions<T, A, R> extends WindowOptions {
  /** Window length, event-time milliseconds. */
  readonly sizeMs: number;
  /** Distance between window starts, event-time milliseconds. */
  readonly slideMs: number;
  /**
   * Shift of window starts from the epoch (`-8 * 3_600_000` for days in UTC+8, as Flink's
   * `Time.hours(-8)`). Any integer, taken modulo the slide. Default 0.
   */
  readonly offsetMs?: number;
  /** Panes are combined with `merge`, so it is required. */
  readonly aggregate: MergeableAggregate<T, A, R>;
  /** Counters to update; one is created when omitted. Also on the returned operator. */
  readonly counters?: SlidingWindowCounters;
}

/**
 * What {@link slidingWindow} dropped on purpose; the runtime can export it as a metric.
 *
 * @example
 * ```ts
 * const op = slidingWindow({ sizeMs: 10_000, slideMs: 60_000, aggregate: counter() });
 * metrics.set("outside_windows", op.counters.outsideWindows);
 * ```
 */
export class SlidingWindowCounters {
  /**
   * Records in no window (with `sizeMs < slideMs`, between one window's end and the next
   * one's start): acked and dropped, never handed on as late (Flink drops them too).
   */
  outsideWindows = 0;
}

/** The operator returned by {@link slidingWindow}, carrying its counters. */
export type SlidingWindowOperator<T, R> = OperatorFunction<
  Element<T>,
  WindowOutput<T, R>
> & { readonly counters: SlidingWindowCounters };

const OPEN = 0;
const FIRED = 1;

/** The accumulator and pending acks of one key's records in one pane. */
interface Pane<A> {
  readonly start: number;
  acc: A;
  /** Handles of the records waiting for an open window this pane is in. */
  readonly pending: PaneAckBag;
  /** Arrival number and origin of the pane's first record (a window's origin is its first). */
  readonly seq: number;
  readonly origin: Origin | undefined;
}

interface KeyState<A> {
  readonly key: string | undefined;
  /** The key's live panes, ascending by start (a handful: size over pane, plus lateness). */
  readonly panes: Pane<A>[];
}

/** The windows of one start, across keys: fired together, cleaned up together. */
interface WindowGroup<A> {
  readonly start: number;
  phase: number;
  /** Keys having this window, in the order the windows opened. */
  readonly keys: KeyState<A>[];
}

/** The keys having a pane of one start, cleaned up together. */
interface PaneGroup<A> {
  readonly start: number;
  readonly keys: KeyState<A>[];
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
 * merges the window's panes. A key keeps its live panes in a small array ordered by start;
 * there is no per-window object: the windows of one start are fired (and cleaned up) as a
 * group listing the keys that have them, and a window's origin (its first record's) is read
 * from its panes. Windows are only registered when a record starts a new pane for its key.
 *
 * **Acknowledgement.** A record falling in `n` live windows becomes `n` descendants of its
 * origin (the operator retains `n - 1`); each window result carries the handles absorbed
 * into that window since its previous emission (on close: all; on update or a late firing:
 * the one record). A late element keeps its record's own handle. The pane's bag is shared
 * by the windows the pane is in: a window closing takes one share of every handle in each
 * of its panes' bags (all were absorbed while it was open), and the bag only grows, so a
 * later window's share also covers records that arrived after the earlier one closed.
 *
 * With `sizeMs < slideMs` the windows leave gaps: a record in a gap belongs to no window; it
 * is acked, dropped and counted (`counters.outsideWindows`), not handed on as late.
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
): SlidingWindowOperator<T, R> {
  const name = "slidingWindow";
  checkDuration(name, "sizeMs", options.sizeMs, false);
  checkDuration(name, "slideMs", options.slideMs, false);
  const { lateness, onUpdate, maxOpen } = resolveWindowOptions(name, options);
  const size = options.sizeMs;
  const slide = options.slideMs;
  const pane = gcd(size, slide);
  // windows start at offsetMs modulo the slide; panes (the slide is a multiple) follow
  const offset = windowOffset(name, options.offsetMs, slide);
  const paneOffset = offset % pane;
  const aggregate = options.aggregate;
  const gaps = size < slide;
  const counters = options.counters ?? new SlidingWindowCounters();

  const operator = (
    source: Observable<Element<T>>,
  ): Observable<WindowOutput<T, R>> =>
    new Observable<WindowOutput<T, R>>((subscriber) => {
      const keys = new Map<string | undefined, KeyState<A>>();
      const windowGroups = new Map<number, WindowGroup<A>>();
      const windowQueue = new TimeQueue<WindowGroup<A>>();
      const paneGroups = new Map<number, PaneGroup<A>>();
      const paneQueue = new TimeQueue<PaneGroup<A>>();
      let watermark = -Infinity;
      let windowCount = 0;
      let arrivals = 0;

      /**
       * Emits window `start` of `ks` merged from its panes; `ack` undefined: a share of each
       * pane's pending. Its origin is the one of the first record of its panes to arrive.
       */
      const emit = (
        ks: KeyState<A>,
        start: number,
        firing: Firing,
        ack: AckHandle | undefined,
      ): void => {
        let acc = aggregate.create();
        const shares = ack === undefined ? new PaneShares() : undefined;
        const end = start + size;
        let seq = Infinity;
        let origin: Origin | undefined;
        const panes = ks.panes;
        for (let i = 0; i < panes.length; i++) {
          const p = panes[i]!;
          if (p.start < start) continue;
          if (p.start >= end) break;
          acc = aggregate.merge(acc, p.acc);
          if (shares !== undefined) shares.take(p.pending);
          if (p.seq < seq) {
            seq = p.seq;
            origin = p.origin;
          }
        }
        subscriber.next(
          windowRecord(
            ks.key,
            start,
            end,
            aggregate.result(acc),
            firing,
            origin,
            ack ?? shares!.single() ?? shares!,
          ),
        );
      };

      /** Fires (on time) or cleans up the windows of one start. */
      const onWindowTime = (g: WindowGroup<A>, time: number): void => {
        if (g.phase === OPEN) {
          if (!onUpdate)
            for (let i = 0; i < g.keys.length; i++)
              emit(g.keys[i]!, g.start, "on-time", undefined);
          if (lateness > 0) {
            g.phase = FIRED;
            windowQueue.add(time + lateness, g);
            return;
          }
        }
        windowGroups.delete(g.start);
        windowCount -= g.keys.length;
      };

      /** Drops the panes of one start (every window they are in has been cleaned up). */
      const onPaneTime = (g: PaneGroup<A>): void => {
        paneGroups.delete(g.start);
        for (let k = 0; k < g.keys.length; k++) {
          const ks = g.keys[k]!;
          const panes = ks.panes;
          if (panes[0]!.start === g.start) panes.shift();
          else
            for (let i = 1; i < panes.length; i++)
              if (panes[i]!.start === g.start) {
                panes.splice(i, 1);
                break;
              }
          if (panes.length === 0) {
            keys.delete(ks.key);
            if (lastKeyState === ks) lastKeyState = undefined;
          }
        }
      };

      /** Registers window `start` of `ks`, opened by a record with origin `origin`. */
      const openWindow = (ks: KeyState<A>, start: number): WindowGroup<A> => {
        if (windowCount >= maxOpen) throw tooManyWindows(name, maxOpen);
        windowCount += 1;
        let g = windowGroups.get(start);
        if (g === undefined) {
          const last = start + size - 1;
          const fired = last <= watermark;
          g = { start, phase: fired ? FIRED : OPEN, keys: [] };
          windowGroups.set(start, g);
          windowQueue.add(fired ? last + lateness : last, g);
        }
        g.keys.push(ks);
        return g;
      };

      /** Adds a pane of `start` to `ks`, keeping its panes in order of start. */
      const newPane = (
        ks: KeyState<A>,
        r: Record<T>,
        start: number,
      ): Pane<A> => {
        const p: Pane<A> = {
          start,
          acc: aggregate.create(),
          pending: new PaneAckBag(),
          seq: arrivals,
          origin: r.origin,
        };
        const panes = ks.panes;
        let i = panes.length;
        while (i > 0 && panes[i - 1]!.start > start) i -= 1;
        if (i === panes.length) panes.push(p);
        else panes.splice(i, 0, p);
        let g = paneGroups.get(start);
        if (g === undefined) {
          g = { start, keys: [] };
          paneGroups.set(start, g);
          paneQueue.add(
            alignDown(start, slide, offset) + size - 1 + lateness,
            g,
          );
        }
        g.keys.push(ks);
        return p;
      };

      /** True if `ks` has a pane other than `p` in the window starting at `start`. */
      const hasOtherPane = (
        ks: KeyState<A>,
        p: Pane<A>,
        start: number,
      ): boolean => {
        const panes = ks.panes;
        const end = start + size;
        for (let i = 0; i < panes.length; i++) {
          const q = panes[i]!;
          if (q.start >= end) return false;
          if (q !== p && q.start >= start) return true;
        }
        return false;
      };

      // The windows a record is in depend only on its pane: the last pane seen, its windows'
      // count and how many of them are live and open (for the watermark they were counted
      // at) are kept, as records mostly come in order (and `%` on times is costly).
      let lastKeyState: KeyState<A> | undefined;
      let lastPane = NaN;
      let lastPaneSlide = NaN;
      let countedAt = NaN;
      let liveCount = 0;
      let unfiredCount = 0;

      const onRecord = (r: Record<T>): void => {
        arrivals += 1;
        const t = r.timestamp;
        if (!(t >= lastPane && t < lastPane + pane)) {
          lastPane = alignDown(t, pane, paneOffset);
          lastPaneSlide = alignDown(t, slide, offset);
          countedAt = NaN;
        }
        const paneStart = lastPane;
        const lastStart = lastPaneSlide;
        if (countedAt !== watermark) {
          // live windows are those not yet cleaned up: a prefix of the starts, newest
          // first; the open ones (not fired yet) are a prefix of those
          liveCount = 0;
          unfiredCount = 0;
          for (
            let s = lastStart;
            s > paneStart - size && s + size - 1 + lateness > watermark;
            s -= slide
          ) {
            liveCount += 1;
            if (s + size - 1 > watermark) unfiredCount += 1;
          }
          countedAt = watermark;
        }
        const live = liveCount;
        const unfired = unfiredCount;
        if (live === 0) {
          if (gaps && paneStart >= lastStart + size) {
            // between two windows: in none of them, so neither counted nor late
            counters.outsideWindows += 1;
            r.ack.ack();
          } else subscriber.next(late(r));
          return;
        }
        // consecutive records often share a key (a hot auction): the last one's state is kept
        let ks = lastKeyState;
        if (ks === undefined || ks.key !== r.key) {
          ks = keys.get(r.key);
          if (ks === undefined) {
            ks = { key: r.key, panes: [] };
            keys.set(r.key, ks);
          }
          lastKeyState = ks;
        }
        const panes = ks.panes;
        let p: Pane<A> | undefined;
        for (let i = panes.length - 1; i >= 0; i--) {
          const q = panes[i]!;
          if (q.start <= paneStart) {
            if (q.start === paneStart) p = q;
            break;
          }
        }
        const fresh = p === undefined;
        if (p === undefined) p = newPane(ks, r, paneStart);
        p.acc = aggregate.add(p.acc, r.value);
        const ack = r.ack;
        if (live > 1) ack.retain(live - 1);
        // The record is in `live` windows. The open ones take it from the pane's pending
        // bag when they fire; the fired ones (and, on update, all) are emitted now. A window
        // exists while a pane of its key in it does, so only a new pane can open windows.
        if (fresh)
          for (let i = 0, s = lastStart; i < live; i++, s -= slide)
            if (!hasOtherPane(ks, p, s)) openWindow(ks, s);
        if (onUpdate || unfired < live)
          for (
            let i = onUpdate ? 0 : unfired, s = lastStart - i * slide;
            i < live;
            i++, s -= slide
          )
            emit(ks, s, i < unfired ? "update" : "late", ack);
        if (unfired > 0 && !onUpdate) p.pending.add(ack);
      };

      const advance = (time: number): void => {
        watermark = time;
        windowQueue.drain(time, onWindowTime);
        paneQueue.drain(time, onPaneTime);
      };

      return subscribeEventTime(source, subscriber, onRecord, advance);
    });
  return Object.assign(operator, { counters });
}
