import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isRecord, isWatermark } from "../operators/element.js";
import { keyedProcess } from "../operators/keyed-process.js";
import { valueState } from "../operators/keyed-state.js";
import { memoryStateBackend } from "../operators/memory-state-backend.js";
import { record } from "../operators/record.js";
import type { Record } from "../operators/record.js";
import { withWatermarks } from "../operators/with-watermarks.js";
import { drive, groupByRecord, yieldToVitest } from "./harness.js";
import type { RefTimerOutput } from "./reference.js";
import { flinkWatermarks, referenceKeyedProcess } from "./reference.js";
import type { Scenario } from "./scenarios.js";
import { budget, scenarios } from "./scenarios.js";

const COUNT = valueState<number>("count");
const FOLLOWED = valueState<boolean>("followed");

const canonical = (outputs: readonly RefTimerOutput[]): string[] =>
  outputs
    .map((o) => `p${o.partition} ${o.key} @${o.time} count=${o.count}`)
    .sort();

/**
 * A keyed count with event-time timers: each record counts and sets a timer at
 * `t + delay`; a timer emits the key's count and, the first time, sets another one
 * millisecond later. Compared, record by record, with the reference KeyedProcessFunction;
 * every input (acked when absorbed) and every held timer output must be settled.
 */
function check(s: Scenario, delay: number, told: boolean): void {
  const backend = memoryStateBackend();
  const run = drive(
    s.events,
    (e) => e.id,
    (input, scheduler) =>
      input.pipe(
        withWatermarks<number>({ maxOutOfOrdernessMs: s.bound, scheduler }),
        keyedProcess<number, RefTimerOutput>({
          backend,
          scheduler,
          process: (r, ctx) => {
            const count = ctx.state(COUNT);
            count.update((count.value() ?? 0) + 1);
            ctx.timers.registerEventTime(r.timestamp + delay);
          },
          onTimer: (time, ctx) => {
            const followed = ctx.state(FOLLOWED);
            if (followed.value() !== true) {
              followed.update(true);
              ctx.timers.registerEventTime(time + 1);
            }
            const partition = Number(ctx.partition.split("/")[1]);
            return record({
              key: ctx.key,
              value: {
                partition,
                key: ctx.key ?? "",
                time,
                count: ctx.state(COUNT).value() ?? 0,
              },
              timestamp: time,
            });
          },
        }),
      ),
    "each",
    told ? s.partitions : undefined,
  );
  expect(run.error).toBeUndefined();
  const partitions = Array.from({ length: s.partitions }, (_, p) => p);
  const inputs = flinkWatermarks(s.events, partitions, s.bound);
  const expected = groupByRecord(
    inputs,
    referenceKeyedProcess(inputs, delay),
    s.events.length,
    (into: RefTimerOutput[], from: RefTimerOutput[]) => into.push(...from),
    () => [],
  );
  for (const [i, outputs] of run.steps.entries()) {
    const timers = outputs
      .filter((o) => !isWatermark(o) && isRecord(o))
      .map((o) => (o as Record<RefTimerOutput>).value);
    const where =
      i < s.events.length ? `after record ${i}` : "at the end of input";
    expect(canonical(timers), `timer outputs ${where}`).toEqual(
      canonical(expected[i]!),
    );
    for (const o of outputs) if (!isWatermark(o)) o.ack.ack();
  }
  for (const p of run.probes) {
    expect(p.errors, `record ${p.id}'s ack handle`).toEqual([]);
    expect(p.pending, `record ${p.id} left unsettled`).toBe(0);
  }
  expect(backend.outputsInFlight?.() ?? 0, "timer outputs still held").toBe(0);
}

describe("fuzz: keyedProcess against a brute-force KeyedProcessFunction", () => {
  it("fires every event-time timer once, in the step Flink fires it, with the key's state then", async () => {
    await fc.assert(
      fc.asyncProperty(
        scenarios({ keyedPartitions: true }),
        fc.constantFrom(0, 1, 7, 50),
        async (s, delay) => {
          await yieldToVitest();
          check(s, delay, true);
        },
      ),
      budget(100),
    );
  });

  it("keeps state per input partition when one key arrives on several partitions", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          scenarios().map((s) => ({ s, told: true })),
          scenarios({ announce: true }).map((s) => ({ s, told: false })),
        ),
        fc.constantFrom(0, 3),
        async ({ s, told }, delay) => {
          await yieldToVitest();
          check(s, delay, told);
        },
      ),
      budget(60),
    );
  });
});
