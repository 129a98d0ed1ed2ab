import fc from "fast-check";
import { filter, lastValueFrom, map, tap, toArray } from "rxjs";
import { describe, expect, it } from "vitest";
import { MemoryLog } from "../connectors/memory/log.js";
import { memorySink } from "../connectors/memory/sink.js";
import { memorySource } from "../connectors/memory/source.js";
import { writeTo } from "../connectors/write-to.js";
import type { MergeableAggregate } from "../operators/aggregate.js";
import { isRecord } from "../operators/element.js";
import { clicksPerMinute } from "../pipelines/demo/readme-example.js";
import { derive } from "../operators/record.js";
import { routeLate } from "../operators/route-late.js";
import { tumblingWindow } from "../operators/tumbling-window.js";
import { withWatermarks } from "../operators/with-watermarks.js";
import { canonical, yieldToVitest } from "./harness.js";
import type { Event, RefResult } from "./reference.js";
import { flinkWatermarks, referenceWindows } from "./reference.js";
import type { Scenario } from "./scenarios.js";
import { budget, scenarios } from "./scenarios.js";

const ids: MergeableAggregate<number, number[], number[]> = {
  create: () => [],
  add: (acc, id) => [...acc, id],
  merge: (a, b) => [...a, ...b],
  result: (acc) => [...acc].sort((a, b) => a - b),
};

/**
 * The README's first job, with generated clicks: memory log with `partitions` partitions,
 * memorySource (stopAtEnd), withWatermarks, tumblingWindow, writeTo a memory sink; late
 * records go to a second sink (acked there). The log is written first, so the source reads
 * backlogs in whatever order it reads them; the fuzzer records that order and computes
 * Flink's answer for it.
 */
async function runJob(
  s: Scenario,
  sizeMs: number,
  latenessMs: number,
  fetchMaxRecords: number,
): Promise<{
  arrival: Event[];
  results: RefResult[];
  late: number[];
  committed: boolean[];
}> {
  const log = new MemoryLog();
  log.createTopic("clicks", { partitions: s.partitions });
  log.createTopic("counts", { partitions: 1 });
  log.createTopic("late", { partitions: 1 });
  const byOffset = new Map<string, Event>();
  for (const e of s.events) {
    const { partition, offset } = log.append("clicks", {
      key: e.key,
      value: e.id,
      timestamp: e.t,
      partition: e.partition,
    });
    byOffset.set(`${partition}/${offset}`, e);
  }
  const source = memorySource<number>(log, {
    group: "fuzz",
    topics: ["clicks"],
    stopAtEnd: true,
    drainTimeoutMs: 200,
    fetchMaxRecords,
  });
  const sink = memorySink<RefResult>(log, { topic: "counts" });
  const lateSink = memorySink<number>(log, { topic: "late" });
  const arrival: Event[] = [];
  await lastValueFrom(
    source.records().pipe(
      tap((r) =>
        arrival.push(
          byOffset.get(`${r.origin!.partition}/${r.origin!.offset}`)!,
        ),
      ),
      withWatermarks<number>({ maxOutOfOrdernessMs: s.bound }),
      tumblingWindow({
        sizeMs,
        allowedLatenessMs: latenessMs,
        aggregate: ids,
      }),
      routeLate((late$) => late$.pipe(writeTo(lateSink, { maxBatch: 50 }))),
      filter(isRecord),
      map((r) =>
        derive(r, {
          key: r.value.key ?? "",
          start: r.value.windowStart,
          end: r.value.windowEnd,
          ids: r.value.result,
          firing: r.value.firing as RefResult["firing"],
        }),
      ),
      writeTo(sink, { maxBatch: 100 }),
      toArray(),
    ),
  );
  await source.close();
  return {
    arrival,
    results: log.read("counts", 0, 0, 1e9).map((e) => e.value as RefResult),
    late: log
      .read("late", 0, 0, 1e9)
      .map((e) => e.value as number)
      .sort((a, b) => a - b),
    committed: Array.from(
      { length: s.partitions },
      (_, p) =>
        (log.committed("fuzz", "clicks", p) ?? log.startOffset("clicks", p)) ===
        log.endOffset("clicks", p),
    ),
  };
}

async function check(
  s: Scenario,
  sizeMs: number,
  latenessMs: number,
  fetchMaxRecords: number,
): Promise<void> {
  const run = await runJob(s, sizeMs, latenessMs, fetchMaxRecords);
  expect(run.arrival.length, "records read").toBe(s.events.length);
  const partitions = Array.from({ length: s.partitions }, (_, p) => p);
  const inputs = flinkWatermarks(run.arrival, partitions, s.bound);
  const steps = referenceWindows(
    inputs,
    { kind: "tumbling", size: sizeMs, offset: 0 },
    latenessMs,
  );
  expect(canonical(run.results), "window results").toEqual(
    canonical(steps.flatMap((st) => st.results)),
  );
  expect(run.late, "late records").toEqual(
    steps.flatMap((st) => st.late).sort((a, b) => a - b),
  );
  expect(run.committed, "partitions committed to their end").toEqual(
    partitions.map(() => true),
  );
}

describe("fuzz: the README's first job on the memory log, with generated clicks", () => {
  it("writes Flink's windows for the order the source read the backlogs in, and commits every partition to its end", async () => {
    await fc.assert(
      fc.asyncProperty(
        scenarios({ large: 150 }),
        fc.constantFrom(1, 5, 30),
        fc.constantFrom(0, 10),
        // records per fetch: how finely the source interleaves the partitions' backlogs
        fc.constantFrom(1, 3, 50, 500),
        async (s, sizeMs, latenessMs, fetchMaxRecords) => {
          await yieldToVitest();
          await check(s, sizeMs, latenessMs, fetchMaxRecords);
        },
      ),
      budget(40),
    );
  }, 120_000);

  it("the README example itself counts every click once for any partition count, when clicks are out of order by less than its bound", async () => {
    await fc.assert(
      fc.asyncProperty(
        // one clock, disorder within 3 s: within any partition the README's 5 s bound holds
        scenarios({ large: 300, beyondBound: false }).filter(
          (s) => s.bound <= 3,
        ),
        fc.integer({ min: 1, max: 16 }),
        async (s, partitions) => {
          await yieldToVitest();
          const clicks = s.events
            .filter((e) => e.partition === 0)
            .map((e) => [e.key, e.t] as const);
          const expected = new Map<string, number>();
          for (const [user, second] of clicks) {
            const start = Math.floor(second / 60) * 60;
            const line = `${user} ${start}s`;
            expected.set(line, (expected.get(line) ?? 0) + 1);
          }
          const out = await clicksPerMinute(clicks, partitions);
          expect(out.sort()).toEqual(
            [...expected].map(([line, n]) => `${line}: ${n}`).sort(),
          );
        },
      ),
      budget(30),
    );
  }, 120_000);
});
