import fc from "fast-check";
import type { Element } from "../element.js";
import { isRecord, watermark } from "../element.js";
import type { WindowOutput } from "../tumbling-window.js";
import { rec } from "./event-time-testing.js";

/** Test support (not exported): generators and oracles shared by the window property tests. */
/** Arbitrary out-of-order input: each record trails the running maximum by at most `delay`. */
export const outOfOrder = (maxDelay: number) =>
  fc
    .array(
      fc.tuple(
        fc.integer({ min: 0, max: 30 }),
        fc.integer({ min: 0, max: maxDelay }),
        fc.constantFrom("a", "b", "c"),
        fc.integer({ min: 1, max: 9 }),
      ),
      { maxLength: 80 },
    )
    .map((steps) => {
      let clock = 0;
      return steps.map(([advance, delay, key, value]) => {
        clock += advance;
        return { ts: Math.max(0, clock - delay), key, value };
      });
    });

/** Feeds records with a watermark of `max - bound - 1` after each. */
export function withBoundedWatermarks(
  items: readonly { ts: number; key: string; value: number }[],
  bound: number,
): Element<number>[] {
  const out: Element<number>[] = [];
  let max = -Infinity;
  for (const it of items) {
    out.push(rec(it.value, it.ts, it.key));
    max = Math.max(max, it.ts);
    out.push(watermark(max - bound - 1));
  }
  out.push(watermark(Infinity));
  return out;
}

/** The last emission of each (key, window). */
export function finalResults<R>(
  out: readonly WindowOutput<number, R>[],
): Map<string, R> {
  const m = new Map<string, R>();
  for (const e of out)
    if (isRecord(e))
      m.set(
        `${e.value.key}|${e.value.windowStart}|${e.value.windowEnd}`,
        e.value.result,
      );
  return m;
}
