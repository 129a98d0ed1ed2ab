import { describe as group, expect, it } from "vitest";
import { from, map, Subject, tap } from "rxjs";
import fc from "fast-check";
import { tumblingWindow } from "./tumbling-window.js";
import { counter } from "./aggregate.js";
import type { Element } from "./element.js";
import { isLate, isRecord, watermark } from "./element.js";
import { routeLate } from "./route-late.js";
import { record } from "./record.js";
import type { Record } from "./record.js";
import { CommitTracker } from "./commit-tracker.js";
import type { WindowResult } from "./window-result.js";
import { describe, rec } from "./internal/event-time-testing.js";
import {
  expectedLate,
  runSync,
  sum,
  tracked,
  ts,
} from "./internal/testing/windows.js";
import {
  finalResults,
  outOfOrder,
  withBoundedWatermarks,
} from "./internal/window-properties.js";

group("tumblingWindow", () => {
  it("completes on an empty source with nothing emitted", () => {
    ts().run(({ cold, expectObservable }) => {
      expectObservable(
        cold<Element<number>>("|").pipe(
          tumblingWindow({ sizeMs: 10, aggregate: sum }),
          map(describe),
        ),
      ).toBe("|");
    });
  });

  it("fires one window when the watermark reaches its end minus one, then forwards the watermark", () => {
    ts().run(({ cold, expectObservable }) => {
      const src = cold<Element<number>>("abc 5ms |", {
        a: rec(5, 3, "k"),
        b: watermark(8),
        c: watermark(9),
      });
      expectObservable(
        src.pipe(tumblingWindow({ sizeMs: 10, aggregate: sum }), map(describe)),
      ).toBe("-b(xc) 2ms |", { b: "wm 8", x: "k [0,10) 5 on-time", c: "wm 9" });
    });
  });

  it("keeps keys and windows apart", () => {
    ts().run(({ cold, expectObservable }) => {
      const src = cold<Element<number>>("abcde 5ms |", {
        a: rec(1, 1, "x"),
        b: rec(2, 2, "y"),
        c: rec(3, 11, "x"),
        d: rec(4, 5, "x"),
        e: watermark(100),
      });
      expectObservable(
        src.pipe(tumblingWindow({ sizeMs: 10, aggregate: sum }), map(describe)),
      ).toBe("----(pqrw)|", {
        p: "x [0,10) 5 on-time",
        q: "y [0,10) 2 on-time",
        r: "x [10,20) 3 on-time",
        w: "wm 100",
      });
    });
  });

  it("forwards an error", () => {
    ts().run(({ cold, expectObservable }) => {
      const src = cold<Element<number>>("ab 3ms #", {
        a: rec(1, 1),
        b: watermark(20),
      });
      expectObservable(
        src.pipe(tumblingWindow({ sizeMs: 10, aggregate: sum }), map(describe)),
      ).toBe("-(xw)#", { x: "- [0,10) 1 on-time", w: "wm 20" });
    });
  });

  it("does not complete while the source does not", () => {
    ts().run(({ cold, expectObservable }) => {
      const src = cold<Element<number>>("a-", { a: rec(1, 1) });
      expectObservable(
        src.pipe(tumblingWindow({ sizeMs: 10, aggregate: sum }), map(describe)),
      ).toBe("--");
    });
  });

  it("unsubscribes from the source on early unsubscribe", () => {
    ts().run(({ cold, expectObservable, expectSubscriptions }) => {
      const src = cold<Element<number>>("a-b-c", {
        a: rec(1, 1),
        b: watermark(20),
        c: rec(2, 25),
      });
      expectObservable(
        src.pipe(tumblingWindow({ sizeMs: 10, aggregate: sum }), map(describe)),
        "^--!",
      ).toBe("--(xw)", { x: "- [0,10) 1 on-time", w: "wm 20" });
      expectSubscriptions(src.subscriptions).toBe("^--!");
    });
  });

  it("errors when the aggregate throws", () => {
    ts().run(({ cold, expectObservable }) => {
      const boom = new Error("boom");
      const src = cold<Element<number>>("a", { a: rec(1, 1) });
      const agg = {
        create: () => 0,
        add: (): number => {
          throw boom;
        },
        result: (n: number) => n,
      };
      expectObservable(
        src.pipe(tumblingWindow({ sizeMs: 10, aggregate: agg }), map(describe)),
      ).toBe("#", undefined, boom);
    });
  });

  it("re-fires a window for a record within the allowed lateness and hands on a later one once", () => {
    const out = runSync<number>(
      [
        rec(1, 1),
        watermark(12),
        rec(2, 3),
        watermark(18),
        rec(4, 4),
        rec(8, 15),
        watermark(30),
      ],
      (s) =>
        s.pipe(
          tumblingWindow({ sizeMs: 10, allowedLatenessMs: 8, aggregate: sum }),
        ),
    );
    expect(out.map(describe)).toEqual([
      "- [0,10) 1 on-time",
      "wm 12",
      "- [0,10) 3 late",
      // cleaned up at 9 + 8 = 17 ≤ 18
      "wm 18",
      "late 4@4",
      "- [10,20) 8 on-time",
      "wm 30",
    ]);
  });

  it("emits a result after every record with on-update", () => {
    const out = runSync<number>(
      [rec(1, 1), rec(2, 2), watermark(9), rec(4, 4)],
      (s) =>
        s.pipe(
          tumblingWindow({
            sizeMs: 10,
            allowedLatenessMs: 5,
            emit: "on-update",
            aggregate: counter<number>(),
          }),
        ),
    );
    expect(out.map(describe)).toEqual([
      "- [0,10) 1 update",
      "- [0,10) 2 update",
      "wm 9",
      "- [0,10) 3 late",
    ]);
  });

  it("routes late records to a side pipeline subscribed once", () => {
    const lateSeen: number[] = [];
    let subscriptions = 0;
    const out: string[] = [];
    const _s5 = from([
      rec(1, 1),
      watermark(50),
      rec(2, 2),
      rec(3, 3),
    ] as Element<number>[])
      .pipe(
        tap({ subscribe: () => (subscriptions += 1) }),
        tumblingWindow({ sizeMs: 10, aggregate: sum }),
        routeLate((late$) => late$.pipe(tap((r) => lateSeen.push(r.value)))),
      )
      .subscribe((e) => out.push(describe(e)));
    expect(subscriptions).toBe(1);
    expect(lateSeen).toEqual([2, 3]);
    expect(out).toEqual(["- [0,10) 1 on-time", "wm 50"]);
  });

  it("holds input acks until the window result is acked", () => {
    const tracker = new CommitTracker("t", 0);
    const input = new Subject<Element<number>>();
    const results: Record<WindowResult<number>>[] = [];
    const _s4 = input
      .pipe(tumblingWindow({ sizeMs: 10, aggregate: counter<number>() }))
      .subscribe((e) => {
        if (isRecord(e)) results.push(e);
      });
    for (const offset of [0, 1, 2])
      input.next(tracked(tracker, offset, offset));
    input.next(watermark(5));
    expect(results).toEqual([]);
    expect(tracker.committable).toBeUndefined();
    input.next(watermark(9));
    expect(results.map((r) => r.value.result)).toEqual([3]);
    expect(tracker.committable).toBeUndefined();
    results[0]!.ack.ack();
    expect(tracker.committable).toBe(3);
  });

  it("makes inputs committable exactly when the result reflecting them is acked, late firings carrying the late record", () => {
    const tracker = new CommitTracker("t", 0);
    const mk = (offset: number, ts: number) => tracked(tracker, offset, ts);
    const results: Record<WindowResult<number>>[] = [];
    const lates: Record<number>[] = [];
    const _s3 = from([
      mk(0, 1),
      mk(1, 2),
      watermark(9),
      mk(2, 3),
      watermark(30),
      mk(3, 4),
    ] as Element<number>[])
      .pipe(
        tumblingWindow({
          sizeMs: 10,
          allowedLatenessMs: 5,
          aggregate: counter<number>(),
        }),
      )
      .subscribe((e) => {
        if (isLate(e)) lates.push(e.record);
        else if (isRecord(e)) results.push(e);
      });
    expect(results.map((r) => r.value.firing)).toEqual(["on-time", "late"]);
    expect(tracker.committable).toBeUndefined();
    results[1]!.ack.ack(); // the late firing carries offset 2 only
    expect(tracker.committable).toBeUndefined();
    expect(tracker.isDone(2)).toBe(true);
    results[0]!.ack.ack();
    expect(tracker.committable).toBe(3);
    lates[0]!.ack.ack();
    expect(tracker.committable).toBe(4);
  });

  it("counts a shared batch handle once per absorbed record", () => {
    const tracker = new CommitTracker("t", 0);
    const handle = tracker.trackBatch(0, 2, 3);
    const inputs = [0, 1, 2].map((offset) =>
      record({
        key: "k",
        value: 1,
        timestamp: offset * 20,
        origin: { topic: "t", partition: 0, offset },
        ack: handle,
      }),
    );
    const results: Record<WindowResult<number>>[] = [];
    const _s2 = from([...inputs, watermark(100)] as Element<number>[])
      .pipe(tumblingWindow({ sizeMs: 10, aggregate: counter<number>() }))
      .subscribe((e) => {
        if (isRecord(e)) results.push(e);
      });
    expect(results).toHaveLength(3);
    results[0]!.ack.ack();
    results[1]!.ack.ack();
    expect(tracker.committable).toBeUndefined();
    results[2]!.ack.ack();
    expect(tracker.committable).toBe(3);
  });

  it("rejects a zero size, naming the field", () => {
    expect(() => tumblingWindow({ sizeMs: 0, aggregate: sum })).toThrow(
      /tumblingWindow.sizeMs/,
    );
  });

  it("rejects an offset that is not an integer, naming the field", () => {
    expect(() =>
      tumblingWindow({ sizeMs: 10, offsetMs: 1.5, aggregate: sum }),
    ).toThrow(/tumblingWindow.offsetMs/);
  });

  it("starts days at midnight UTC+8 with offsetMs -8 h, as Flink's Time.hours(-8)", () => {
    const hour = 3_600_000;
    const run = (offsetMs: number) =>
      runSync<number>(
        [rec(1, 5 * hour), rec(2, 20 * hour), watermark(Infinity)],
        (s) =>
          s.pipe(
            tumblingWindow({ sizeMs: 24 * hour, offsetMs, aggregate: sum }),
          ),
      ).map(describe);
    expect(run(-8 * hour)).toEqual([
      `- [${-8 * hour},${16 * hour}) 1 on-time`,
      `- [${16 * hour},${40 * hour}) 2 on-time`,
      "wm Infinity",
    ]);
    expect(run(-8 * hour)).toEqual(run(16 * hour));
    expect(run(-8 * hour)).toEqual(run(-32 * hour));
  });

  it("fails with BACKPRESSURE beyond maxOpenWindows", () => {
    let error: unknown;
    const _s1 = from([rec(1, 1, "a"), rec(1, 1, "b")] as Element<number>[])
      .pipe(tumblingWindow({ sizeMs: 10, aggregate: sum, maxOpenWindows: 1 }))
      .subscribe({ error: (e: unknown) => (error = e) });
    expect(error).toMatchObject({ code: "BACKPRESSURE" });
  });
});

group("tumblingWindow properties", () => {
  it("gives the same results as a brute-force reference on out-of-order input within the lateness", () => {
    fc.assert(
      fc.property(
        outOfOrder(40),
        fc.integer({ min: 0, max: 20 }),
        fc.integer({ min: 1, max: 25 }),
        fc.integer({ min: -80, max: 80 }),
        (items, bound, size, offset) => {
          const lateness = 40 - bound; // delay ≤ bound + lateness: never beyond lateness
          const out = runSync<number>(
            withBoundedWatermarks(items, bound),
            (s) =>
              s.pipe(
                tumblingWindow({
                  sizeMs: size,
                  offsetMs: offset,
                  allowedLatenessMs: lateness,
                  aggregate: sum,
                }),
              ),
          );
          const expected = new Map<string, number>();
          for (const it of items) {
            // the one start at or before t, a whole number of sizes from the offset
            let start = offset;
            while (start > it.ts) start -= size;
            while (start + size <= it.ts) start += size;
            const k = `${it.key}|${start}|${start + size}`;
            expected.set(k, (expected.get(k) ?? 0) + it.value);
          }
          expect(out.filter(isLate)).toEqual([]);
          expect(finalResults(out)).toEqual(expected);
        },
      ),
    );
  });

  it("puts every record in exactly one window and every record beyond lateness once in the side output", () => {
    fc.assert(
      fc.property(
        outOfOrder(60),
        fc.integer({ min: 0, max: 10 }),
        fc.integer({ min: 0, max: 10 }),
        fc.integer({ min: 1, max: 25 }),
        (items, bound, lateness, size) => {
          const elements = withBoundedWatermarks(items, bound);
          const out = runSync<number>(elements, (s) =>
            s.pipe(
              tumblingWindow({
                sizeMs: size,
                allowedLatenessMs: lateness,
                emit: "on-update",
                aggregate: counter<number>(),
              }),
            ),
          );
          const updates = out.filter(isRecord).length;
          const lates = out.filter(isLate).map((e) => e.record);
          // each record produced exactly one update (or late element), and lates are the ones beyond lateness
          expect(updates + lates.length).toBe(items.length);
          const lastEnd = (t: number) => Math.floor(t / size) * size + size;
          expect(lates).toEqual(expectedLate(elements, lastEnd, lateness));
          const total = [...finalResults(out).values()].reduce(
            (a, b) => a + b,
            0,
          );
          expect(total).toBe(items.length - lates.length);
        },
      ),
    );
  });
});
