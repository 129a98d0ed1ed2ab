import { from } from "rxjs";
import type { CommitTracker } from "../../commit-tracker.js";
import type { MergeableAggregate } from "../../aggregate.js";
import { reducer } from "../../aggregate.js";
import type { Element } from "../../element.js";
import { isRecord } from "../../element.js";
import { record } from "../../record.js";
import type { Record } from "../../record.js";
import type { WindowOutput } from "../../tumbling-window.js";
import { testScheduler } from "./records.js";

/** Setup shared by the window operators' tests. Test-only helpers. */

/** A TestScheduler that compares with vitest's deep equality. */
export const ts = testScheduler;

/** Sums numbers; mergeable, so every window operator takes it. */
export const sum: MergeableAggregate<number, unknown, number> = reducer(
  (a: number, b: number) => a + b,
);

/** Runs `op` over `elements` synchronously and returns everything it emitted. */
export function runSync<R>(
  elements: readonly Element<number>[],
  op: (
    s: ReturnType<typeof from<Element<number>[]>>,
  ) => ReturnType<typeof from<WindowOutput<number, R>[]>>,
): WindowOutput<number, R>[] {
  const out: WindowOutput<number, R>[] = [];
  const _s = op(from(elements as Element<number>[])).subscribe((e) =>
    out.push(e),
  );
  return out;
}

/** A record at `offset` of partition `t`/0 whose ack handle `tracker` tracks. */
export function tracked(
  tracker: CommitTracker,
  offset: number,
  timestamp: number,
  key: string | undefined = "k",
  value = 1,
): Record<number> {
  return record({
    key,
    value,
    timestamp,
    origin: { topic: "t", partition: 0, offset },
    ack: tracker.track(offset),
  });
}

/**
 * The records of `elements` a window operator must hand on as late: those arriving when
 * the watermark has passed the last window holding them (ending at `lastEnd(timestamp)`)
 * by more than `lateness`.
 */
export function expectedLate(
  elements: readonly Element<number>[],
  lastEnd: (timestamp: number) => number,
  lateness: number,
): Record<number>[] {
  let wm = -Infinity;
  const late: Record<number>[] = [];
  for (const e of elements) {
    if (isRecord(e)) {
      if (lastEnd(e.timestamp) - 1 + lateness <= wm) late.push(e);
    } else wm = Math.max(wm, e.time);
  }
  return late;
}
