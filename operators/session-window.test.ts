import { describe as group, expect, it } from "vitest";
import { from, map } from "rxjs";
import fc from "fast-check";
import { sessionWindow } from "./session-window.js";
import { counter } from "./aggregate.js";
import type { Element } from "./element.js";
import { isLate, isRecord, watermark } from "./element.js";
import type { Record } from "./record.js";
import { CommitTracker } from "./commit-tracker.js";
import { describe, rec } from "./internal/event-time-testing.js";
import { runSync, sum, tracked, ts } from "./internal/testing/windows.js";
import {
  outOfOrder,
  withBoundedWatermarks,
} from "./internal/window-properties.js";

group("sessionWindow", () => {
  it("completes on an empty source with nothing emitted", () => {
    ts().run(({ cold, expectObservable }) => {
      expectObservable(
        cold<Element<number>>("|").pipe(
          sessionWindow({ gapMs: 10, aggregate: sum }),
          map(describe),
        ),
      ).toBe("|");
    });
  });

  it("fires one session when the watermark passes its end", () => {
    ts().run(({ cold, expectObservable }) => {
      const src = cold<Element<number>>("ab 5ms |", {
        a: rec(2, 7, "k"),
        b: watermark(16),
      });
      expectObservable(
        src.pipe(sessionWindow({ gapMs: 10, aggregate: sum }), map(describe)),
      ).toBe("-(xw) 2ms |", { x: "k [7,17) 2 on-time", w: "wm 16" });
    });
  });

  it("merges records closer than the gap, also out of order, and splits at a gap", () => {
    const out = runSync<number>(
      [
        rec(1, 0),
        rec(2, 20),
        rec(4, 10),
        rec(8, 40, "other"),
        rec(16, 31),
        watermark(100),
      ],
      (s) => s.pipe(sessionWindow({ gapMs: 10, aggregate: sum })),
    );
    expect(out.map(describe)).toEqual([
      "- [0,30) 7 on-time",
      "- [31,41) 16 on-time",
      "other [40,50) 8 on-time",
      "wm 100",
    ]);
  });

  it("forwards an error", () => {
    ts().run(({ cold, expectObservable }) => {
      expectObservable(
        cold<Element<number>>("a#", { a: rec(1, 1) }).pipe(
          sessionWindow({ gapMs: 10, aggregate: sum }),
          map(describe),
        ),
      ).toBe("-#");
    });
  });

  it("does not complete while the source does not", () => {
    ts().run(({ cold, expectObservable }) => {
      expectObservable(
        cold<Element<number>>("a-", { a: rec(1, 1) }).pipe(
          sessionWindow({ gapMs: 10, aggregate: sum }),
          map(describe),
        ),
      ).toBe("--");
    });
  });

  it("unsubscribes from the source on early unsubscribe", () => {
    ts().run(({ cold, expectObservable, expectSubscriptions }) => {
      const src = cold<Element<number>>("a---b", {
        a: rec(1, 1),
        b: watermark(100),
      });
      expectObservable(
        src.pipe(sessionWindow({ gapMs: 10, aggregate: sum }), map(describe)),
        "^-!",
      ).toBe("");
      expectSubscriptions(src.subscriptions).toBe("^-!");
    });
  });

  it("errors when the aggregate's merge throws", () => {
    ts().run(({ cold, expectObservable }) => {
      const boom = new Error("boom");
      const agg = {
        create: () => 0,
        add: (a: number, v: number) => a + v,
        merge: (): number => {
          throw boom;
        },
        result: (n: number) => n,
      };
      const src = cold<Element<number>>("abc", {
        a: rec(1, 0),
        b: rec(1, 30),
        c: rec(1, 15),
      });
      expectObservable(
        src.pipe(sessionWindow({ gapMs: 15, aggregate: agg }), map(describe)),
      ).toBe("--#", undefined, boom);
    });
  });

  it("re-fires a fired session for a late record within lateness, merging sessions it bridges", () => {
    const out = runSync<number>(
      [
        rec(1, 0),
        rec(2, 20),
        watermark(35),
        rec(4, 10),
        watermark(100),
        rec(8, 5),
      ],
      (s) =>
        s.pipe(
          sessionWindow({ gapMs: 10, allowedLatenessMs: 30, aggregate: sum }),
        ),
    );
    expect(out.map(describe)).toEqual([
      "- [0,10) 1 on-time",
      "- [20,30) 2 on-time",
      "wm 35",
      "- [0,30) 7 late",
      "wm 100",
      "late 8@5",
    ]);
  });

  it("carries the acks of merged sessions in the merged result", () => {
    const tracker = new CommitTracker("t", 0);
    const mk = (offset: number, t: number) => tracked(tracker, offset, t);
    const results: Record<unknown>[] = [];
    const _s = from([
      mk(0, 0),
      mk(1, 20),
      mk(2, 10),
      watermark(100),
    ] as Element<number>[])
      .pipe(sessionWindow({ gapMs: 10, aggregate: counter<number>() }))
      .subscribe((e) => {
        if (isRecord(e)) results.push(e);
      });
    expect(results).toHaveLength(1);
    expect(tracker.committable).toBeUndefined();
    results[0]!.ack.ack();
    expect(tracker.committable).toBe(3);
  });

  it("waits for the new end of a session extended after it was queued, past several old deadlines", () => {
    const out = runSync<number>(
      [
        rec(1, 0, "k"),
        rec(2, 8, "k"),
        rec(4, 16, "k"),
        rec(8, 3, "j"),
        watermark(9),
        watermark(17),
        watermark(24),
        rec(16, 25, "k"),
        watermark(33),
        watermark(34),
      ],
      (s) => s.pipe(sessionWindow({ gapMs: 10, aggregate: sum })),
    );
    expect(out.map(describe)).toEqual([
      "wm 9",
      "j [3,13) 8 on-time",
      "wm 17",
      "wm 24",
      "wm 33",
      "k [0,35) 23 on-time",
      "wm 34",
    ]);
  });

  it("re-opens a fired session that a late record extends past the watermark, firing at the earlier end", () => {
    const out = runSync<number>(
      [
        rec(1, 0),
        watermark(9),
        watermark(12),
        rec(2, 5),
        watermark(13),
        watermark(14),
        watermark(43),
        rec(4, 3),
        watermark(44),
        rec(8, 4),
      ],
      (s) =>
        s.pipe(
          sessionWindow({ gapMs: 10, allowedLatenessMs: 30, aggregate: sum }),
        ),
    );
    expect(out.map(describe)).toEqual([
      "- [0,10) 1 on-time",
      "wm 9",
      "wm 12",
      "wm 13",
      "- [0,15) 3 on-time",
      "wm 14",
      "wm 43",
      "- [0,15) 7 late",
      "wm 44",
      "late 8@4",
    ]);
  });

  it("emits an update per record with on-update", () => {
    const out = runSync<number>([rec(1, 0), rec(2, 5), watermark(100)], (s) =>
      s.pipe(sessionWindow({ gapMs: 10, emit: "on-update", aggregate: sum })),
    );
    expect(out.map(describe)).toEqual([
      "- [0,10) 1 update",
      "- [0,15) 3 update",
      "wm 100",
    ]);
  });
});

/** Sessions of a batch: sort per key, split where the next record is more than the gap after the last. */
function referenceSessions(
  items: readonly { ts: number; key: string; value: number }[],
  gap: number,
): Map<string, number> {
  const out = new Map<string, number>();
  const byKey = new Map<string, { ts: number; value: number }[]>();
  for (const it of items) byKey.set(it.key, [...(byKey.get(it.key) ?? []), it]);
  for (const [key, list] of byKey) {
    list.sort((a, b) => a.ts - b.ts);
    let start = list[0]!.ts;
    let last = start;
    let total = 0;
    for (const it of list) {
      if (it.ts - last > gap) {
        out.set(`${key}|${start}|${last + gap}`, total);
        start = it.ts;
        total = 0;
      }
      last = it.ts;
      total += it.value;
    }
    out.set(`${key}|${start}|${last + gap}`, total);
  }
  return out;
}

group("sessionWindow properties", () => {
  it("gives the same sessions as a brute-force reference on out-of-order input within the lateness", () => {
    fc.assert(
      fc.property(
        outOfOrder(40),
        fc.integer({ min: 0, max: 20 }),
        fc.integer({ min: 1, max: 25 }),
        (items, bound, gap) => {
          const lateness = 40 - bound;
          const out = runSync<number>(
            withBoundedWatermarks(items, bound),
            (s) =>
              s.pipe(
                sessionWindow({
                  gapMs: gap,
                  allowedLatenessMs: lateness,
                  aggregate: sum,
                }),
              ),
          );
          expect(out.filter(isLate)).toEqual([]);
          const expected = referenceSessions(items, gap);
          const last = new Map<string, number>();
          for (const e of out)
            if (isRecord(e))
              last.set(
                `${e.value.key}|${e.value.windowStart}|${e.value.windowEnd}`,
                e.value.result,
              );
          for (const [k, v] of expected) expect(last.get(k)).toBe(v);
          // any other emitted session was later merged into a final one
          for (const k of last.keys()) {
            if (expected.has(k)) continue;
            const [key, start, end] = k.split("|");
            const covered = [...expected.keys()].some((x) => {
              const [k2, s2, e2] = x.split("|");
              return (
                k2 === key &&
                Number(s2) <= Number(start) &&
                Number(end) <= Number(e2)
              );
            });
            expect(covered).toBe(true);
          }
        },
      ),
    );
  });

  it("fires a session on time with the first watermark at or past its end - 1, however often records moved its end", () => {
    fc.assert(
      fc.property(
        outOfOrder(20),
        fc.integer({ min: 0, max: 20 }),
        fc.integer({ min: 0, max: 15 }),
        fc.integer({ min: 1, max: 25 }),
        (items, bound, lateness, gap) => {
          const out = runSync<number>(
            withBoundedWatermarks(items, bound),
            (s) =>
              s.pipe(
                sessionWindow({
                  gapMs: gap,
                  allowedLatenessMs: lateness,
                  aggregate: sum,
                }),
              ),
          );
          let previous = -Infinity;
          const fired: { end: number; previous: number }[] = [];
          for (const e of out) {
            if (isRecord(e)) {
              if (e.value.firing === "on-time")
                fired.push({ end: e.value.windowEnd, previous });
            } else if (!isLate(e)) {
              for (const f of fired) {
                expect(f.previous).toBeLessThan(f.end - 1);
                expect(f.end - 1).toBeLessThanOrEqual(e.time);
              }
              fired.length = 0;
              previous = e.time;
            }
          }
          expect(fired).toEqual([]);
        },
      ),
    );
  });

  it("hands every record beyond lateness on exactly once", () => {
    fc.assert(
      fc.property(
        outOfOrder(60),
        fc.integer({ min: 0, max: 10 }),
        fc.integer({ min: 0, max: 10 }),
        fc.integer({ min: 1, max: 10 }),
        (items, bound, lateness, gap) => {
          const elements = withBoundedWatermarks(items, bound);
          const out = runSync<number>(elements, (s) =>
            s.pipe(
              sessionWindow({
                gapMs: gap,
                allowedLatenessMs: lateness,
                emit: "on-update",
                aggregate: counter<number>(),
              }),
            ),
          );
          const lates = out.filter(isLate).map((e) => e.record);
          expect(new Set(lates).size).toBe(lates.length);
          expect(out.filter(isRecord).length + lates.length).toBe(items.length);
        },
      ),
    );
  });
});
