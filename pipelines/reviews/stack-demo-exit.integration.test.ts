import { spawn } from "node:child_process";
import { beforeAll, describe, expect, it } from "vitest";
import { requireServices } from "../../stack/index.js";
import { repoRoot as root, setUpStack } from "./testing/sluice-process.js";

beforeAll(async () => {
  await requireServices(["kafka", "cassandra", "postgres", "memcached"]);
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
  }, 120_000);
});
