import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { requireServices } from "../stack/index.js";
import { runSuite } from "./harness.js";
import { pipelineSuites } from "./pipelines.js";

// `sluice bench pipelines` at its smallest size against the real services: every workload
// throws when its pipeline's result is wrong (the reviews chain unless every offset was
// committed, the outreach fan-out unless the action log holds every job DELIVERED, the e-shop
// saga unless every order reached Paid), so a completed suite is the check. Speed is never
// asserted.
describe("the pipelines benchmark", () => {
  it("runs the reviews chain, the outreach fan-out and the e-shop saga, embedded and on the stack, each to a correct end", async () => {
    const env = await requireServices([
      "kafka",
      "cassandra",
      "postgres",
      "memcached",
    ]);
    const out = mkdtempSync(join(tmpdir(), "sluice-bench-pipelines-"));
    const suites = pipelineSuites(0.001, env, out);
    expect(suites.map((s) => s.name)).toEqual([
      "pipelines-reviews",
      "pipelines-outreach",
      "pipelines-eshop",
    ]);
    for (const suite of suites) {
      const result = await runSuite(suite, { runs: 1, warmup: 1 });
      expect(
        result.results.map((r) => r.name),
        suite.name,
      ).toEqual(suite.workloads.map((w) => w.name));
      for (const r of result.results)
        expect(r.recordsPerSec, `${suite.name}: ${r.name}`).toBeGreaterThan(0);
    }
    const outreach = suites[1]!.workloads.map((w) => w.name);
    expect(outreach).toContain("outreach fan-out (embedded)");
    expect(outreach).toContain("outreach fan-out (Kafka + PostgreSQL)");
    // The memory curves went to the output directory asked for, not into bench/results.
    expect(readdirSync(out).sort()).toEqual([
      "outreach-memory-1000.json",
      "outreach-memory-embedded-1000.json",
    ]);
    rmSync(out, { recursive: true, force: true });
  }, 600_000);
});
