import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { runKeyedCount } from "../pipelines/demo/keyed-count.js";
import { yieldToVitest } from "./harness.js";
import { budget } from "./scenarios.js";

describe("fuzz: the embedded demos at generated sizes", () => {
  it("keyed-count counts every event once (in a window or late), matches its reference and commits every partition", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          events: fc.oneof(
            fc.constantFrom(0, 1, 2),
            fc.integer({ min: 3, max: 200 }),
            fc.integer({ min: 1_000, max: 5_000 }),
          ),
          keys: fc.oneof(fc.constant(1), fc.integer({ min: 2, max: 2_000 })),
          partitions: fc.integer({ min: 1, max: 16 }),
          windowMs: fc.constantFrom(1_000, 10_000, 60_000),
          seed: fc.nat(1_000_000),
        }),
        async (options) => {
          await yieldToVitest();
          const report = await runKeyedCount(options);
          expect(report.produced).toBe(options.events);
          expect(report.counted + report.late, "counted + late").toBe(
            options.events,
          );
          expect(report.matchesReference, "per-user reference").toBe(true);
          expect(report.allCommitted, "committed to the end").toBe(true);
          expect(report.resultsWritten).toBe(report.windowsFired);
        },
      ),
      budget(15),
    );
  }, 120_000);
});
