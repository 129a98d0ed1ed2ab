import { describe, expect, it } from "vitest";
import { generateEvents } from "./generate.js";
import { runKeyedCount } from "./keyed-count.js";

describe("the demo keyed count", () => {
  it("counts every event exactly once, in a window or as late, and commits to the end of every partition", async () => {
    const report = await runKeyedCount({
      events: 60_000,
      keys: 300,
      partitions: 4,
      windowMs: 60_000,
      seed: 7,
    });
    expect(report.produced).toBe(60_000);
    expect(report.counted + report.late).toBe(60_000);
    expect(report.late).toBeGreaterThan(0);
    expect(report.matchesReference).toBe(true);
    expect(report.allCommitted).toBe(true);
    expect(report.resultsWritten).toBe(report.windowsFired);
  });

  it("does not stall when skewed keys put partitions at different event times", async () => {
    // 1 000 Zipf keys over 4 partitions: one partition carries far more events, so the others
    // run minutes ahead in event time. Without per-partition caps the fast partitions fill the
    // shared in-flight cap while their windows wait for the slow one's watermark.
    const report = await runKeyedCount({
      events: 200_000,
      keys: 1_000,
      partitions: 4,
      windowMs: 60_000,
      seed: 42,
    });
    expect(report.counted + report.late).toBe(200_000);
    expect(report.allCommitted).toBe(true);
  });
});

describe("the demo keyed count at sizes the fuzzer found (fuzz/demos.fuzz.test.ts)", () => {
  it("counts a window fired again by a record within the allowed lateness once, not once per firing", async () => {
    // 2 users over 15 partitions: a backlog read after the others holds records within the
    // allowed lateness; each late firing carries the window's whole count. Summing the
    // firings reported counted + late = 1045 for 1000 events.
    const report = await runKeyedCount({
      events: 1_000,
      keys: 2,
      partitions: 15,
      windowMs: 1_000,
      seed: 23857,
    });
    expect(report.counted + report.late).toBe(1_000);
    expect(report.matchesReference).toBe(true);
  });

  it("calls a partition that got no events committed (it has nothing to commit)", async () => {
    for (const events of [0, 1]) {
      const report = await runKeyedCount({
        events,
        keys: 1,
        partitions: 2,
        windowMs: 1_000,
        seed: 0,
      });
      expect(report.counted + report.late).toBe(events);
      expect(report.allCommitted).toBe(true);
    }
  });
});

describe("generateEvents", () => {
  it("repeats exactly for the same seed", () => {
    const opts = {
      events: 100,
      keys: 10,
      seed: 3,
      startMs: 0,
      meanGapMs: 10,
      maxDisorderMs: 100,
      lateShare: 0.1,
      lateByMs: 1_000,
    };
    expect([...generateEvents(opts)]).toEqual([...generateEvents(opts)]);
  });
});
