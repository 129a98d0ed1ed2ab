import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { requireServices } from "../../stack/index.js";
import { defaultGeneratorOptions } from "../nexmark/generator.js";
import type { OverloadJob, OverloadSample } from "./suite.js";
import { overloadSuite, scalingSuite, timelineBase } from "./suite.js";

// `sluice bench scaling` on a small size: consumer groups of worker processes must process
// every input once between them (a run waits for the exact total and fails on a worker
// error or timeout), and the overload staircase must sample lag and the worker's memory,
// with a worker capped below the input falling behind (counts, never timings).
// Speed is never asserted.
describe("the scaling benchmark", () => {
  it("processes every input with 1 and 2 worker processes in one consumer group", async () => {
    const env = await requireServices(["kafka"]);
    const suite = scalingSuite({
      brokers: env.kafkaBrokers,
      events: 20_000,
      widths: [1, 2],
      generator: defaultGeneratorOptions,
    });
    await suite.setup?.();
    try {
      for (const w of suite.workloads) {
        const timing = await w.run();
        expect(timing?.seconds, w.name).toBeGreaterThan(0);
        expect(w.note, w.name).toMatch(/peak RSS \d+/);
      }
    } finally {
      await suite.teardown?.();
    }
  }, 120_000);

  it("samples lag and memory while the input steps up, and a worker capped below the input falls behind", async () => {
    const env = await requireServices(["kafka"]);
    const out = mkdtempSync(join(tmpdir(), "sluice-overload-"));
    // Both jobs process at most 1 000 inputs/s (1 000 µs of work per input; rateLimit at
    // 1 000/s), so the second step (8 000/s for 2 s) must leave a backlog whatever the
    // machine's speed.
    const jobs: OverloadJob[] = [
      { kind: "cpu", costMicros: 1_000 },
      { kind: "paced", ratePerSec: 1_000 },
    ];
    const maxInFlight = 50_000;
    try {
      const suite = overloadSuite({
        brokers: env.kafkaBrokers,
        rates: [200, 8_000],
        stepSeconds: 2,
        maxInFlight,
        gcEveryMs: 1_000,
        jobs,
        out,
      });
      try {
        for (const w of suite.workloads) await w.run();
      } finally {
        await suite.teardown?.();
      }
      for (const job of jobs) {
        const base = timelineBase(out, job);
        const { samples } = JSON.parse(
          readFileSync(`${base}.json`, "utf8"),
        ) as { samples: OverloadSample[] };
        expect(
          [...new Set(samples.map((s) => s.targetRate))],
          job.kind,
        ).toEqual([200, 8_000]);
        for (const s of samples) {
          expect(s.lag, job.kind).toBe(s.produced - s.processed);
          expect(s.processed, job.kind).toBeLessThanOrEqual(s.produced);
          expect(s.inFlight, job.kind).toBeLessThanOrEqual(maxInFlight);
        }
        const last = samples[samples.length - 1]!;
        const endOfFirst = samples.filter((s) => s.step === 0).pop()!;
        expect(last.produced, job.kind).toBeGreaterThan(endOfFirst.produced);
        // capped below the input: the backlog outgrows what was processed, and grew in step 2
        expect(last.lag, job.kind).toBeGreaterThan(last.processed);
        expect(last.lag, job.kind).toBeGreaterThan(endOfFirst.lag);
        expect(
          samples.some((s) => s.rssMb > 0 && s.heapMb > 0 && s.liveHeapMb > 0),
          job.kind,
        ).toBe(true);
        expect(readFileSync(`${base}.md`, "utf8")).toContain("lag growth /s");
        expect(readFileSync(`${base}.svg`, "utf8")).toContain("<svg");
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 120_000);
});
