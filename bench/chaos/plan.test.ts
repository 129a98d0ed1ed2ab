import { describe, expect, it } from "vitest";
import { faultPlan, FAULT_KINDS, parseKinds, prng } from "./plan.js";

describe("the chaos fault plan", () => {
  it("is the same for the same seed and differs for another", () => {
    const a = faultPlan({
      seed: 7,
      kinds: FAULT_KINDS,
      extra: 5,
      sessionTimeoutMs: 10_000,
    });
    const b = faultPlan({
      seed: 7,
      kinds: FAULT_KINDS,
      extra: 5,
      sessionTimeoutMs: 10_000,
    });
    const c = faultPlan({
      seed: 8,
      kinds: FAULT_KINDS,
      extra: 5,
      sessionTimeoutMs: 10_000,
    });
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  it("has every kind once before the random extras", () => {
    for (const seed of [1, 2, 3, 99]) {
      const plan = faultPlan({
        seed,
        kinds: FAULT_KINDS,
        extra: 20,
        sessionTimeoutMs: 10_000,
      });
      expect(plan).toHaveLength(FAULT_KINDS.length + 20);
      expect(
        new Set(plan.slice(0, FAULT_KINDS.length).map((f) => f.kind)),
      ).toEqual(new Set(FAULT_KINDS));
      for (const f of plan.slice(FAULT_KINDS.length))
        expect(FAULT_KINDS).toContain(f.kind);
    }
  });

  it("stops a process for longer than the session timeout", () => {
    const plan = faultPlan({
      seed: 3,
      kinds: ["sigstop"],
      extra: 50,
      sessionTimeoutMs: 10_000,
    });
    for (const f of plan) expect(f.durationMs).toBeGreaterThanOrEqual(15_000);
  });

  it("draws uniformly in [0, 1) from the seeded generator", () => {
    const r = prng(42);
    const xs = Array.from({ length: 10_000 }, () => r());
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean).toBeGreaterThan(0.47);
    expect(mean).toBeLessThan(0.53);
  });

  it("refuses an unknown fault kind, naming it and the known ones", () => {
    expect(() => parseKinds("sigkill,flood")).toThrow(
      /unknown fault "flood" \(one of sigkill, sigstop/,
    );
    expect(() => parseKinds("")).toThrow(/at least one fault/);
    expect(parseKinds(" kafka , memcached ")).toEqual(["kafka", "memcached"]);
  });
});
