import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { requireServices } from "../../stack/index.js";
import { defaultGeneratorOptions } from "../nexmark/generator.js";
import type { OverloadSample } from "./suite.js";
import { overloadSuite, scalingSuite } from "./suite.js";

// `sluice bench scaling` on a small size: consumer groups of worker processes must process
// every input once between them (a run waits for the exact total and fails on a worker
// error or timeout), and the overload staircase must sample lag and the worker's memory.
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

  it("samples lag and the worker's RSS while the input rate steps up", async () => {
    const env = await requireServices(["kafka"]);
    const out = mkdtempSync(join(tmpdir(), "sluice-overload-"));
    try {
      const suite = overloadSuite({
        brokers: env.kafkaBrokers,
        rates: [2_000, 6_000],
        stepSeconds: 2,
        maxInFlight: 150_000,
        out,
      });
      try {
        await suite.workloads[0]!.run();
      } finally {
        await suite.teardown?.();
      }
      const timeline = JSON.parse(
        readFileSync(join(out, "scaling-overload-timeline.json"), "utf8"),
      ) as { samples: OverloadSample[] };
      const rates = new Set(timeline.samples.map((s) => s.targetRate));
      expect([...rates]).toEqual([2_000, 6_000]);
      const last = timeline.samples[timeline.samples.length - 1]!;
      expect(last.produced).toBeGreaterThan(0);
      expect(last.lag).toBe(last.produced - last.processed);
      expect(timeline.samples.some((s) => s.rssMb > 0)).toBe(true);
      expect(
        readFileSync(join(out, "scaling-overload-timeline.svg"), "utf8"),
      ).toContain("<svg");
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 120_000);
});
