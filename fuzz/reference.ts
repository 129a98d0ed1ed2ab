// Brute-force references for the scenario fuzzer, written from the documented semantics of
// Flink's event time (WatermarkStrategy.forBoundedOutOfOrderness, WindowOperator,
// EventTimeTrigger, TumblingEventTimeWindows, SlidingEventTimeWindows,
// EventTimeSessionWindows, KeyedProcessFunction), never from Sluice's operators: no import
// of operators/ here. They favour plainness over speed: every record and watermark is a
// loop over all state.

/** One input record as the fuzzer generates it. */
export interface Event {
  /** Unique per generated record: what a window result lists. */
  readonly id: number;
  readonly key: string;
  /** Event time, ms. */
  readonly t: number;
  readonly partition: number;
}

/** An input element of an event-time operator: a record or a watermark. */
export type RefInput =
  | { readonly kind: "record"; readonly event: Event }
  | { readonly kind: "watermark"; readonly time: number };

/** One emitted window result, as compared: the ids it holds, sorted. */
export interface RefResult {
  readonly key: string;
  readonly start: number;
  readonly end: number;
  readonly ids: readonly number[];
  readonly firing: "on-time" | "late";
}

/** What one input element (or the end of input) made an operator emit, in any order. */
export interface RefStep {
  readonly results: RefResult[];
  /** Ids of the records handed on as Late. */
  readonly late: number[];
}

/**
 * Flink's bounded-out-of-orderness watermarks over partitions known from the start: each
 * partition's watermark is its highest timestamp minus `bound` minus 1 (`-Infinity` until
 * its first record, so it holds the combined one back), the combined watermark is their
 * minimum, emitted after the record that advances it and never going back; the end of input
 * emits `+Infinity`. Returns the element stream an event-time operator then sees.
 */
export function flinkWatermarks(
  events: readonly Event[],
  partitions: readonly number[],
  bound: number,
): RefInput[] {
  const max = new Map<number, number>();
  for (const p of partitions) max.set(p, -Infinity);
  let emitted = -Infinity;
  const out: RefInput[] = [];
  for (const event of events) {
    if (!max.has(event.partition))
      throw new Error(`partition ${event.partition} was not assigned`);
    out.push({ kind: "record", event });
    if (event.t > max.get(event.partition)!) max.set(event.partition, event.t);
    let wm = Infinity;
    for (const m of max.values()) wm = Math.min(wm, m - bound - 1);
    if (wm > emitted) {
      emitted = wm;
      out.push({ kind: "watermark", time: wm });
    }
  }
  if (emitted < Infinity) out.push({ kind: "watermark", time: Infinity });
  return out;
}

/** Window assigners, from Flink's TimeWindow.getWindowStartWithOffset and friends. */
export type Assigner =
  | {
      readonly kind: "tumbling";
      readonly size: number;
      readonly offset: number;
    }
  | {
      readonly kind: "sliding";
      readonly size: number;
      readonly slide: number;
      readonly offset: number;
    };

/** `x mod m` in [0, m), for negative `x` too. */
function floorMod(x: number, m: number): number {
  return ((x % m) + m) % m;
}

/** Every window `[start, start + size)` holding `t`, by brute force over starts. */
export function assignWindows(
  a: Assigner,
  t: number,
): { start: number; end: number }[] {
  const slide = a.kind === "tumbling" ? a.size : a.slide;
  const first = t - floorMod(t - a.offset, slide); // the latest start at or before t
  const out: { start: number; end: number }[] = [];
  for (let start = first; start > t - a.size; start -= slide)
    out.push({ start, end: start + a.size });
  return out;
}

interface RefWindow {
  readonly key: string;
  start: number;
  end: number;
  ids: number[];
  /** EventTimeTrigger's timer: `end - 1`, registered while it is ahead of the watermark. */
  timer: number | undefined;
}

function resultOf(w: RefWindow, firing: RefResult["firing"]): RefResult {
  return {
    key: w.key,
    start: w.start,
    end: w.end,
    ids: [...w.ids].sort((a, b) => a - b),
    firing,
  };
}

/**
 * Flink's WindowOperator with EventTimeTrigger and allowed lateness, for tumbling and
 * sliding assigners. Per record, for each window it falls in: a window whose
 * `end - 1 + lateness` is at or below the watermark is skipped; otherwise the record is
 * added, and the window fires at once (a late firing) if `end - 1` is at or below the
 * watermark, else its timer at `end - 1` is set. A record skipped by every window is handed
 * on as Late. A watermark fires each window whose timer it reaches (on time) and purges
 * windows whose `end - 1 + lateness` it reaches.
 */
export function referenceWindows(
  inputs: readonly RefInput[],
  assigner: Assigner,
  lateness: number,
): RefStep[] {
  const state = new Map<string, RefWindow>();
  let wm = -Infinity;
  const steps: RefStep[] = [];
  for (const input of inputs) {
    const step: RefStep = { results: [], late: [] };
    steps.push(step);
    if (input.kind === "watermark") {
      if (input.time <= wm) continue;
      wm = input.time;
      for (const w of state.values())
        if (w.timer !== undefined && w.timer <= wm) {
          w.timer = undefined;
          step.results.push(resultOf(w, "on-time"));
        }
      for (const [id, w] of state)
        if (w.end - 1 + lateness <= wm) state.delete(id);
      continue;
    }
    const e = input.event;
    let added = 0;
    for (const { start, end } of assignWindows(assigner, e.t)) {
      if (end - 1 + lateness <= wm) continue;
      added += 1;
      const id = `${e.key}\u0000${start}`;
      let w = state.get(id);
      if (w === undefined) {
        w = { key: e.key, start, end, ids: [], timer: undefined };
        state.set(id, w);
      }
      w.ids.push(e.id);
      if (end - 1 <= wm) step.results.push(resultOf(w, "late"));
      else w.timer = end - 1;
    }
    if (added === 0) step.late.push(e.id);
  }
  return steps;
}

/**
 * Flink's session windows (EventTimeSessionWindows with MergingWindowSet): a record opens
 * `[t, t + gap)`, which merges with every live session of its key it intersects (touching
 * counts: `a.start <= b.end && b.start <= a.end`). The merged window is late if its
 * `end - 1 + lateness` is at or below the watermark: then the record is handed on as Late.
 * Otherwise it fires at once if `end - 1` is at or below the watermark (a late firing), else
 * its timer is (re)set at `end - 1`. Watermarks fire and purge as for the other windows.
 */
export function referenceSessions(
  inputs: readonly RefInput[],
  gap: number,
  lateness: number,
): RefStep[] {
  const sessions: RefWindow[] = [];
  let wm = -Infinity;
  const steps: RefStep[] = [];
  for (const input of inputs) {
    const step: RefStep = { results: [], late: [] };
    steps.push(step);
    if (input.kind === "watermark") {
      if (input.time <= wm) continue;
      wm = input.time;
      for (const s of sessions)
        if (s.timer !== undefined && s.timer <= wm) {
          s.timer = undefined;
          step.results.push(resultOf(s, "on-time"));
        }
      for (let i = sessions.length - 1; i >= 0; i--)
        if (sessions[i]!.end - 1 + lateness <= wm) sessions.splice(i, 1);
      continue;
    }
    const e = input.event;
    let merged: RefWindow = {
      key: e.key,
      start: e.t,
      end: e.t + gap,
      ids: [e.id],
      timer: undefined,
    };
    for (let i = sessions.length - 1; i >= 0; i--) {
      const s = sessions[i]!;
      if (s.key !== e.key) continue;
      if (s.start <= merged.end && merged.start <= s.end) {
        merged = {
          key: e.key,
          start: Math.min(s.start, merged.start),
          end: Math.max(s.end, merged.end),
          ids: [...s.ids, ...merged.ids],
          timer: undefined,
        };
        sessions.splice(i, 1);
      }
    }
    if (merged.end - 1 + lateness <= wm) {
      // only a record that merged with nothing can be late: a live session is not
      step.late.push(e.id);
      continue;
    }
    sessions.push(merged);
    if (merged.end - 1 <= wm) step.results.push(resultOf(merged, "late"));
    else merged.timer = merged.end - 1;
  }
  return steps;
}

/** One output of the reference keyed process: a timer firing with the key's count then. */
export interface RefTimerOutput {
  readonly partition: number;
  readonly key: string;
  readonly time: number;
  readonly count: number;
}

/**
 * Flink's KeyedProcessFunction with event-time timers, for the fuzzer's job: state per
 * (partition, key) (Sluice partitions keyed state by input partition) holds a count of
 * records; each record registers a timer at `t + delay` (timers are unique per key and
 * time). A watermark fires, in time order, every timer at or below it, including timers
 * registered by an `onTimer` in the same advance; `onTimer` emits the count and, the first
 * time for a key, registers a follow-up timer at `time + 1`.
 */
export function referenceKeyedProcess(
  inputs: readonly RefInput[],
  delay: number,
): RefTimerOutput[][] {
  const counts = new Map<string, number>();
  const followed = new Set<string>();
  const timers = new Map<
    string,
    { partition: number; key: string; time: number }
  >();
  let wm = -Infinity;
  const steps: RefTimerOutput[][] = [];
  const register = (partition: number, key: string, time: number): void => {
    timers.set(`${partition}\u0000${key}\u0000${time}`, {
      partition,
      key,
      time,
    });
  };
  for (const input of inputs) {
    const step: RefTimerOutput[] = [];
    steps.push(step);
    if (input.kind === "record") {
      const { partition, key, t } = input.event;
      const id = `${partition}\u0000${key}`;
      counts.set(id, (counts.get(id) ?? 0) + 1);
      register(partition, key, t + delay);
      continue;
    }
    if (input.time <= wm) continue;
    wm = input.time;
    for (;;) {
      let next:
        | { id: string; partition: number; key: string; time: number }
        | undefined;
      for (const [id, timer] of timers)
        if (timer.time <= wm && (next === undefined || timer.time < next.time))
          next = { id, ...timer };
      if (next === undefined) break;
      timers.delete(next.id);
      const stateId = `${next.partition}\u0000${next.key}`;
      step.push({
        partition: next.partition,
        key: next.key,
        time: next.time,
        count: counts.get(stateId) ?? 0,
      });
      if (!followed.has(stateId)) {
        followed.add(stateId);
        register(next.partition, next.key, next.time + 1);
      }
    }
  }
  return steps;
}
