import fc from "fast-check";
import type { Observable } from "rxjs";
import { describe, expect, it } from "vitest";
import { pressureGauge, type PressureSignal } from "./pressure-gauge.js";

/** Subscribes to the gauge's signal and returns what it has seen so far. */
function watch(gauge: { signal$: Observable<PressureSignal> }): {
  seen: PressureSignal[];
  stop: () => void;
} {
  const seen: PressureSignal[] = [];
  const sub = gauge.signal$.subscribe((s) => seen.push(s));
  return { seen, stop: () => sub.unsubscribe() };
}

describe("pressureGauge", () => {
  it("starts at resume", () => {
    const w = watch(pressureGauge({ highCount: 2 }));
    expect(w.seen).toEqual(["resume"]);
    w.stop();
  });

  it("pauses at the high count and resumes only at the low count", () => {
    const g = pressureGauge<string>({ highCount: 3, lowCount: 1 });
    const w = watch(g);
    g.tryAdd("a");
    g.tryAdd("b");
    g.tryAdd("c");
    g.remove("c");
    expect(g.paused).toBe(true);
    g.remove("b");
    expect(w.seen).toEqual(["resume", "pause", "resume"]);
    w.stop();
  });

  it("pauses on bytes as the size estimator reports them", () => {
    const g = pressureGauge<string>({
      highCount: 100,
      highBytes: 10,
      sizeOf: (s) => s.length,
    });
    g.tryAdd("12345");
    expect(g.paused).toBe(false);
    g.tryAdd("67890");
    expect([g.paused, g.bytes]).toEqual([true, 10]);
    g.remove("67890");
    expect(g.paused).toBe(false);
  });

  it("refuses items above the hard caps in count and in bytes", () => {
    const byCount = pressureGauge({ highCount: 1, maxCount: 2 });
    expect([byCount.tryAdd(1), byCount.tryAdd(2), byCount.tryAdd(3)]).toEqual([
      true,
      true,
      false,
    ]);
    const byBytes = pressureGauge<string>({
      highCount: 100,
      highBytes: 4,
      maxBytes: 6,
      sizeOf: (s) => s.length,
    });
    expect([byBytes.tryAdd("1234"), byBytes.tryAdd("567")]).toEqual([
      true,
      false,
    ]);
    expect(byBytes.count).toBe(1);
  });

  it("rejects watermarks in the wrong order, naming the field", () => {
    expect(() => pressureGauge({ highCount: 2, lowCount: 2 })).toThrow(
      /lowCount/,
    );
    expect(() => pressureGauge({ highCount: 0 })).toThrow(/highCount/);
  });

  it("never holds more than its hard caps and signals pause exactly when above high (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 50 })), {
          maxLength: 200,
        }),
        (ops) => {
          const g = pressureGauge<number>({
            highCount: 10,
            lowCount: 4,
            highBytes: 200,
            lowBytes: 100,
            maxCount: 15,
            maxBytes: 300,
            sizeOf: (n) => n,
          });
          const held: number[] = [];
          for (const [add, size] of ops) {
            if (add) {
              if (g.tryAdd(size)) held.push(size);
            } else if (held.length > 0) g.remove(held.pop()!);
            expect(g.count).toBeLessThanOrEqual(15);
            expect(g.bytes).toBeLessThanOrEqual(300);
            if (g.count >= 10 || g.bytes >= 200) expect(g.paused).toBe(true);
            if (g.count <= 4 && g.bytes <= 100) expect(g.paused).toBe(false);
          }
        },
      ),
    );
  });
});
