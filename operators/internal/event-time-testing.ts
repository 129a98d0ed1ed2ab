import { TestScheduler } from "rxjs/testing";
import type { Element, Late } from "../element.js";
import type { Record } from "../record.js";
import { record } from "../record.js";
import type { WindowResult } from "../window-result.js";

/** Test support (not exported): a TestScheduler asserting with deep equality. */
export function testScheduler(
  assertEqual: (actual: unknown, expected: unknown) => void,
): TestScheduler {
  return new TestScheduler(assertEqual);
}

/** A test record: value, timestamp, optional key and partition. */
export function rec<T>(
  value: T,
  timestamp: number,
  key?: string,
  partition?: number,
): Record<T> {
  return record({
    key,
    value,
    timestamp,
    ...(partition === undefined
      ? {}
      : { origin: { topic: "t", partition, offset: 0 } }),
  });
}

/** A readable summary of a window operator's output element. */
export function describe<T, R>(e: Element<WindowResult<R>> | Late<T>): string {
  const kind = (e as { kind?: unknown }).kind;
  if (kind === "watermark") return `wm ${(e as { time: number }).time}`;
  if (kind === "late")
    return `late ${String((e as Late<T>).record.value)}@${(e as Late<T>).record.timestamp}`;
  const r = e as Record<WindowResult<R>>;
  const v = r.value;
  return `${v.key ?? "-"} [${v.windowStart},${v.windowEnd}) ${JSON.stringify(v.result)} ${v.firing}`;
}
