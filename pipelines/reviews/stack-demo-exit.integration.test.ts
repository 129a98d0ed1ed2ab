import { spawn } from "node:child_process";
import { beforeAll, describe, expect, it } from "vitest";
import { requireServices, type Endpoints } from "../../stack/index.js";
import { createPostgresPool } from "../../connectors/postgres/index.js";
import { repoRoot as root, setUpStack } from "./testing/sluice-process.js";

let env: Endpoints;

beforeAll(async () => {
  env = await requireServices(["kafka", "cassandra", "postgres", "memcached"]);
  // The demo runs from dist/: build it as `npm test` does.
  setUpStack();
}, 600_000);

describe("sluice demo --stack local", () => {
  // A client left open (the CDC relay's producer was) keeps the process alive after the
  // summary: the person running the demo waits forever.
  it("prints its summary and exits 0 by itself, everything closed", async () => {
    const child = spawn(
      process.execPath,
      ["bin/sluice.mjs", "demo", "--stack", "local", "--reviews", "150"],
      { cwd: root, stdio: ["ignore", "pipe", "pipe"] },
    );
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | string>((resolve) => {
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        resolve("still running 90 s after start");
      }, 90_000);
      child.on("exit", (c) => {
        clearTimeout(timer);
        resolve(c ?? "killed");
      });
    });
    expect(code, out.slice(-2000)).toBe(0);
    expect(out).toContain("every offset committed on both jobs: yes");
    // Both jobs' counters went to sluice.job_stats for the Pipelines dashboard.
    const runId = /^run (\S+):/m.exec(out)?.[1];
    expect(runId, out.slice(-2000)).toBeDefined();
    const db = createPostgresPool({ connectionString: env.databaseUrl });
    try {
      const rows = await db.pool.query<{ job: string; records_in: string }>(
        `SELECT job, max(records_in) AS records_in FROM sluice.job_stats WHERE instance = $1 GROUP BY job ORDER BY job`,
        [`demo-${runId!}`],
      );
      expect(rows.rows.map((r) => r.job)).toEqual([
        "reviews-enrichment",
        "reviews-recommendation",
      ]);
      for (const r of rows.rows)
        expect(Number(r.records_in), r.job).toBeGreaterThan(0);
    } finally {
      await db.pool.query("DELETE FROM sluice.job_stats WHERE instance = $1", [
        `demo-${runId!}`,
      ]);
      await db.end();
    }
  }, 120_000);
});
