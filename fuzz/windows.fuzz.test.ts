import fc from "fast-check";
import type { Observable } from "rxjs";
import { describe, expect, it } from "vitest";
import type { MergeableAggregate } from "../operators/aggregate.js";
import { isLate, isRecord, isWatermark } from "../operators/element.js";
import type { Record } from "../operators/record.js";
import { sessionWindow } from "../operators/session-window.js";
import { slidingWindow } from "../operators/sliding-window.js";
import type { WindowOutput } from "../operators/tumbling-window.js";
import { tumblingWindow } from "../operators/tumbling-window.js";
import { withWatermarks } from "../operators/with-watermarks.js";
import { canonical, drive, groupByRecord, yieldToVitest } from "./harness.js";
import type { Assigner, RefInput, RefStep } from "./reference.js";
import {
  flinkWatermarks,
  referenceSessions,
  referenceWindows,
} from "./reference.js";
import type { Scenario } from "./scenarios.js";
import { budget, scenarios } from "./scenarios.js";

/** Collects the ids of a window's records: a result says exactly which records it holds. */
const ids: MergeableAggregate<number, number[], number[]> = {
  create: () => [],
  add: (acc, id) => [...acc, id],
  merge: (a, b) => [...a, ...b],
  result: (acc) => [...acc].sort((a, b) => a - b),
};

type WindowKind =
  | {
      readonly kind: "tumbling";
      size: number;
      offset: number;
      lateness: number;
    }
  | {
      readonly kind: "sliding";
      size: number;
      slide: number;
      offset: number;
      lateness: number;
    }
  | { readonly kind: "session"; gap: number; lateness: number };

const lateness = fc.constantFrom(0, 0, 3, 20);

const tumbling: fc.Arbitrary<WindowKind> = fc
  .record({
    size: fc.constantFrom(1, 2, 5, 10, 30, 100),
    offset: fc.nat(99),
    lateness,
  })
  .map((w) => ({ kind: "tumbling", ...w, offset: w.offset % w.size }));

const sliding: fc.Arbitrary<WindowKind> = fc
  .record({
    slide: fc.constantFrom(1, 2, 3, 5, 10),
    extra: fc.nat(25),
    offset: fc.nat(99),
    lateness,
  })
  .map(({ slide, extra, offset, lateness }) => ({
    kind: "sliding",
    size: slide + extra,
    slide,
    offset: offset % slide,
    lateness,
  }));

const session: fc.Arbitrary<WindowKind> = fc
  .record({ gap: fc.constantFrom(1, 2, 5, 15), lateness })
  .map((w) => ({ kind: "session", ...w }));

function operatorOf(
  w: WindowKind,
): (s: Observable<unknown>) => Observable<WindowOutput<number, number[]>> {
  switch (w.kind) {
    case "tumbling":
      return tumblingWindow({
        sizeMs: w.size,
        offsetMs: w.offset,
        allowedLatenessMs: w.lateness,
        aggregate: ids,
      }) as never;
    case "sliding":
      return slidingWindow({
        sizeMs: w.size,
        slideMs: w.slide,
        offsetMs: w.offset,
        allowedLatenessMs: w.lateness,
        aggregate: ids,
      }) as never;
    case "session":
      return sessionWindow({
        gapMs: w.gap,
        allowedLatenessMs: w.lateness,
        aggregate: ids,
      }) as never;
  }
}

function referenceOf(w: WindowKind, inputs: readonly RefInput[]): RefStep[] {
  if (w.kind === "session") return referenceSessions(inputs, w.gap, w.lateness);
  const assigner: Assigner =
    w.kind === "tumbling"
      ? { kind: "tumbling", size: w.size, offset: w.offset }
      : { kind: "sliding", size: w.size, slide: w.slide, offset: w.offset };
  return referenceWindows(inputs, assigner, w.lateness);
}

/**
 * Runs `withWatermarks` + the window over the scenario, one record at a time, and compares
 * what each record (and the end of input) made it emit with the brute-force reference;
 * then acks every output and checks that every input was settled exactly once.
 */
function check(s: Scenario, w: WindowKind, told: boolean): void {
  const run = drive(
    s.events,
    (e) => e.id,
    (input, scheduler) =>
      input.pipe(
        withWatermarks<number>({ maxOutOfOrdernessMs: s.bound, scheduler }),
        operatorOf(w),
      ),
    "each",
    told ? s.partitions : undefined,
  );
  expect(run.error).toBeUndefined();
  const partitions = Array.from({ length: s.partitions }, (_, p) => p);
  const inputs = flinkWatermarks(s.events, partitions, s.bound);
  const expected = groupByRecord(
    inputs,
    referenceOf(w, inputs),
    s.events.length,
    (into: RefStep, from: RefStep) => {
      into.results.push(...from.results);
      into.late.push(...from.late);
    },
    () => ({ results: [], late: [] }),
  );
  for (const [i, outputs] of run.steps.entries()) {
    const results = outputs.filter(isRecord).map((r) => {
      const v = (
        r as Record<{
          key: string;
          windowStart: number;
          windowEnd: number;
          result: number[];
          firing: string;
        }>
      ).value;
      return {
        key: v.key,
        start: v.windowStart,
        end: v.windowEnd,
        ids: v.result,
        firing: v.firing as "on-time" | "late",
      };
    });
    const late = outputs
      .filter(isLate)
      .map((l) => l.record.value)
      .sort((a, b) => a - b);
    const where =
      i < s.events.length ? `after record ${i}` : "at the end of input";
    expect(
      { results: canonical(results), late },
      `${w.kind} output ${where}`,
    ).toEqual({
      results: canonical(expected[i]!.results),
      late: [...expected[i]!.late].sort((a, b) => a - b),
    });
    for (const o of outputs) {
      if (isWatermark(o)) continue;
      if (isLate(o)) o.record.ack.ack();
      else o.ack.ack();
    }
  }
  for (const p of run.probes) {
    expect(p.errors, `record ${p.id}'s ack handle`).toEqual([]);
    expect(p.pending, `record ${p.id} left unsettled`).toBe(0);
  }
}

// Records from a source that assigns every partition from the start (linked origins), in
// any order: idle and late-starting partitions, backlogs one partition after another.
const told = scenarios();
// Records with plain origins, where every partition sends a record at the earliest time
// first: the watermark of the partitions seen so far is then Flink's.
const announced = scenarios({ announce: true });

describe("fuzz: event-time windows against a brute-force Flink reference", () => {
  for (const [name, kind] of [
    ["tumbling", tumbling],
    ["sliding", sliding],
    ["session", session],
  ] as const) {
    it(`${name} windows emit what Flink's WindowOperator emits, record by record, and settle every input once`, async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            told.map((s) => ({ s, told: true })),
            announced.map((s) => ({ s, told: false })),
          ),
          kind,
          async ({ s, told }, w) => {
            await yieldToVitest();
            check(s, w, told);
          },
        ),
        budget(120),
      );
    });
  }
});
