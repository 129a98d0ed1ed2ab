import { describe, expect, it } from "vitest";
import {
  markdown,
  runSuite,
  summaryChart,
  summaryMarkdown,
  svgChart,
} from "./harness.js";
import type { SuiteResult } from "./harness.js";
import { operatorSuite } from "./operators.js";

describe("the bench harness", () => {
  it("reports each workload as a ratio to the baseline and checks goals", async () => {
    let spins = 0;
    const result = await runSuite(
      {
        name: "toy",
        baseline: "fast",
        workloads: [
          { name: "fast", records: 1_000, run: () => void (spins += 1) },
          {
            name: "slow",
            records: 1_000,
            run: () => {
              const until = process.hrtime.bigint() + 2_000_000n;
              while (process.hrtime.bigint() < until) spins += 1;
            },
          },
        ],
        goals: [{ workload: "slow", minRatio: 1 }],
        comparisons: [{ workload: "slow", versus: "fast", minRatio: 1 }],
      },
      { runs: 3, warmup: 1 },
    );
    const fast = result.results.find((r) => r.name === "fast")!;
    const slow = result.results.find((r) => r.name === "slow")!;
    expect(fast.ratioToBaseline).toBe(1);
    expect(slow.ratioToBaseline).toBeLessThan(1);
    expect(slow.runs).toHaveLength(3);
    expect(result.goals).toEqual([
      {
        goal: expect.stringContaining("slow within 1.0× of fast") as string,
        met: false,
      },
    ]);
    expect(result.comparisons).toEqual([
      {
        workload: "slow",
        versus: "fast",
        ratio: slow.recordsPerSec / fast.recordsPerSec,
        perRound: slow.runs.map((x, i) => x / fast.runs[i]!),
        medianOfRounds: expect.any(Number) as number,
        cpuRatio: slow.cpuSecPerRun / fast.cpuSecPerRun,
        minRatio: 1,
      },
    ]);
    expect(result.comparisons![0]!.medianOfRounds).toBeLessThan(1);
    expect(markdown(result)).toContain("| slow | fast |");
    expect(markdown(result)).toContain("(goal ≥ 1: NOT met)");
    expect(markdown(result)).toContain("| slow |");
    expect(markdown(result)).toContain("NOT met");
    expect(svgChart(result)).toContain("<svg");
    expect(spins).toBeGreaterThan(0);
  });
});

describe("the summary of a suite of several parts", () => {
  const part = (suite: string, ratio: number, met: boolean): SuiteResult => ({
    suite,
    baseline: `${suite} loop`,
    startedAt: "2026-11-22T09:00:00.000Z",
    machine: {
      cpu: "cpu",
      cores: 2,
      memoryGb: 24,
      os: "linux",
      node: "v20",
      commit: "abc1234",
    },
    runsPerWorkload: 3,
    warmupRuns: 1,
    results: [
      {
        name: `${suite} loop`,
        note: "",
        records: 100,
        runs: [1],
        recordsPerSec: 2_000_000,
        ratioToBaseline: 1,
        cpuSecPerRun: 0.5,
        peakRssMb: 100,
      },
      {
        name: `${suite} sluice`,
        note: "",
        records: 100,
        runs: [1],
        recordsPerSec: 2_000_000 * ratio,
        ratioToBaseline: ratio,
        cpuSecPerRun: 0.5 / ratio,
        peakRssMb: 100,
      },
    ],
    goals: [{ goal: `${suite} sluice within 2.0× of ${suite} loop`, met }],
  });

  it("puts every part's workloads beside their own baseline, with the goals not met named", () => {
    const parts = [part("q1", 0.7, true), part("q5", 0.36, false)];
    const md = summaryMarkdown("nexmark", parts);
    expect(md).toContain("### nexmark: 2 parts");
    expect(md).toMatch(
      /\| q1 \| q1 loop \| 2\.00 M \| q1 sluice \| 1\.40 M \| 0\.70 \|.*\| all met \|/,
    );
    expect(md).toMatch(
      /\| q5 \| .*\| 0\.36 \|.*NOT met: q5 sluice within 2\.0× of q5 loop \|/,
    );
    expect(md).not.toMatch(/\| q1 loop \| 2\.00 M \| 1\.00/); // baselines are not rows of their own
    const svg = summaryChart("nexmark", parts);
    expect(svg.match(/<rect /g)).toHaveLength(2);
    expect(svg).toContain("×0.70 of q1 loop");
    expect(svg).toContain("×0.36 of q5 loop");
    expect(svg).toContain("×0.5 (2× its cost)");
    expect(svg).not.toContain("log scale");
    // A pipeline at a five-hundredth of its baseline beside the rest: log axis, small
    // ratios with two significant digits instead of ×0.00.
    const wide = summaryChart("pipelines", [
      ...parts,
      part("chain", 0.002, true),
    ]);
    expect(wide).toContain("(log scale)");
    expect(wide).toContain("×0.0020 of chain loop");
  });
});

describe("the harness with work in other processes", () => {
  it("takes a run's reported CPU seconds instead of its own", async () => {
    const result = await runSuite(
      {
        name: "external",
        baseline: "peer",
        workloads: [
          {
            name: "peer",
            records: 10,
            run: () => ({ seconds: 0.5, cpuSeconds: 7 }),
          },
        ],
      },
      { runs: 1, warmup: 0 },
    );
    expect(result.results[0]!.cpuSecPerRun).toBe(7);
    expect(result.results[0]!.recordsPerSec).toBe(20);
  });
});

describe("the operator benchmark", () => {
  it("counts every record in the window workload and commits every offset", async () => {
    const suite = operatorSuite({
      records: 20_000,
      keys: 50,
      partitions: 3,
      batch: 100,
      windowMs: 1_000,
    });
    for (const w of suite.workloads) await w.run();
    expect(suite.workloads.map((w) => w.name)).toEqual([
      "plain loop",
      "rxjs map+filter",
      "sluice window count",
    ]);
  });
});
