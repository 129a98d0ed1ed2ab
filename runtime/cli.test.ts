import { describe, expect, it, vi } from "vitest";
import { BENCH_SUITES, main } from "./cli.js";
import { SUITES, selectSuites } from "../bench/main.js";

describe("sluice run", () => {
  it("explains itself with an example in --help", async () => {
    const out = vi
      .spyOn(process.stdout, "write")
      .mockImplementation(() => true);
    const code = await main(["run", "--help"]);
    const text = out.mock.calls.map((c) => String(c[0])).join("");
    out.mockRestore();
    expect(code).toBe(0);
    expect(text).toContain("Example:");
    expect(text).toContain("--config <file>");
    expect(text).toContain("demo-count");
  });

  it("names the unknown job, lists the known ones and exits 2", async () => {
    const err = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const code = await main(["run", "no-such-job"]);
    const text = err.mock.calls.map((c) => String(c[0])).join("");
    err.mockRestore();
    expect(code).toBe(2);
    expect(text).toContain('no job "no-such-job"');
    expect(text).toContain("reviews-enrichment");
  });

  it("names every benchmark suite of bench/main.ts in `bench --help`", async () => {
    expect([...BENCH_SUITES].sort()).toEqual(Object.keys(SUITES).sort());
    const out = vi
      .spyOn(process.stdout, "write")
      .mockImplementation(() => true);
    const code = await main(["bench", "--help"]);
    const text = out.mock.calls.map((c) => String(c[0])).join("");
    out.mockRestore();
    expect(code).toBe(0);
    for (const name of BENCH_SUITES) expect(text).toContain(name);
  });
});

describe("sluice bench --only", () => {
  const suites = SUITES["nexmark"]!.make(0.001, {} as never);
  const all = Array.isArray(suites) ? suites : [suites];

  it("keeps the named parts of a suite, by full name or by the suffix after the dash", () => {
    const kept = selectSuites("nexmark", all, ["q5", "nexmark-q11"]);
    expect(kept.map((s) => s.name)).toEqual(["nexmark-q5", "nexmark-q11"]);
    expect(selectSuites("nexmark", all, undefined)).toHaveLength(all.length);
  });

  it("names the unknown part and lists the known ones", () => {
    expect(() => selectSuites("nexmark", all, ["q6"])).toThrow(
      /--only q6: no such part of "nexmark"; its parts: nexmark-q0, .*nexmark-q11/,
    );
  });
});
