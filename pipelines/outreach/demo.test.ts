import { afterEach, describe, expect, it, vi } from "vitest";
import { runOutreachDemo } from "./demo.js";

describe("sluice demo outreach (embedded)", () => {
  afterEach(() => {
    vi.restoreAllMocks();
    process.exitCode = undefined;
  });

  it("runs one hourly firing end to end and prints a summary with no email sent twice", async () => {
    const lines: string[] = [];
    vi.spyOn(console, "log").mockImplementation((...a: unknown[]) => {
      lines.push(a.join(" "));
    });
    await runOutreachDemo({ seed: 1, partitions: 2, size: 400 });
    const out = lines.join("\n");
    expect(out).toMatch(
      /planner: 4 segments, 4 pages, 400 job ids; processedAt set on 4 segments/,
    );
    expect(out).toMatch(
      /rerun of the same hour: 4 pages again, 0 emails sent twice/,
    );
    const m =
      /action log: (\d+) delivered, 0 failed, (\d+) dead-lettered \((\d+) dead letters/.exec(
        out,
      );
    expect(m).not.toBeNull();
    expect(Number(m?.[1]) + Number(m?.[2])).toBe(400);
    expect(Number(m?.[2])).toBeGreaterThan(0);
    expect(process.exitCode ?? 0).toBe(0);
  });
});
