import { describe as group, expect, it } from "vitest";
import { from, map } from "rxjs";
import fc from "fast-check";
import { slidingWindow } from "./sliding-window.js";
import { counter } from "./aggregate.js";
import type { Element } from "./element.js";
import { isLate, isRecord, watermark } from "./element.js";
import type { Record } from "./record.js";
import { record } from "./record.js";
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

group("slidingWindow", () => {
  it("completes on an empty source with nothing emitted", () => {
    ts().run(({ cold, expectObservable }) => {
      expectObservable(
        cold<Element<number>>("|").pipe(
          slidingWindow({ sizeMs: 10, slideMs: 5, aggregate: sum }),
          map(describe),
        ),
      ).toBe("|");
    });
  });

  it("fires every window a record falls in", () => {
    ts().run(({ cold, expectObservable }) => {
      const src = cold<Element<number>>("ab 5ms |", {
        a: rec(2, 7, "k"),
        b: watermark(100),
      });
      expectObservable(
        src.pipe(
          slidingWindow({ sizeMs: 10, slideMs: 5, aggregate: sum }),
          map(describe),
        ),
      ).toBe("-(xyw) 1ms |", {
        x: "k [0,10) 2 on-time",
        y: "k [5,15) 2 on-time",
        w: "wm 100",
      });
    });
  });

  it("combines panes of many records into each window", () => {
    const out = runSync<number>(
      [rec(1, 1), rec(2, 6), rec(4, 11), watermark(100)],
      (s) => s.pipe(slidingWindow({ sizeMs: 10, slideMs: 5, aggregate: sum })),
    );
    expect(out.map(describe)).toEqual([
      "- [-5,5) 1 on-time",
      "- [0,10) 3 on-time",
      "- [5,15) 6 on-time",
      "- [10,20) 4 on-time",
      "wm 100",
    ]);
  });

  it("forwards an error", () => {
    ts().run(({ cold, expectObservable }) => {
      const src = cold<Element<number>>("a#", { a: rec(1, 1) });
      expectObservable(
        src.pipe(
          slidingWindow({ sizeMs: 10, slideMs: 5, aggregate: sum }),
          map(describe),
        ),
      ).toBe("-#");
    });
  });

  it("does not complete while the source does not", () => {
    ts().run(({ cold, expectObservable }) => {
      expectObservable(
        cold<Element<number>>("a-", { a: rec(1, 1) }).pipe(
          slidingWindow({ sizeMs: 10, slideMs: 5, aggregate: sum }),
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
        src.pipe(
          slidingWindow({ sizeMs: 10, slideMs: 5, aggregate: sum }),
          map(describe),
        ),
        "^-!",
      ).toBe("");
      expectSubscriptions(src.subscriptions).toBe("^-!");
    });
  });

  it("errors when the aggregate throws", () => {
    ts().run(({ cold, expectObservable }) => {
      const boom = new Error("boom");
      const agg = {
        create: () => 0,
        add: (): number => {
          throw boom;
        },
        merge: (a: number, b: number) => a + b,
        result: (n: number) => n,
      };
      expectObservable(
        cold<Element<number>>("a", { a: rec(1, 1) }).pipe(
          slidingWindow({ sizeMs: 10, slideMs: 5, aggregate: agg }),
          map(describe),
        ),
      ).toBe("#", undefined, boom);
    });
  });

  it("re-fires only the windows still within lateness and hands on a record beyond all of them", () => {
    const out = runSync<number>(
      [rec(1, 7), watermark(16), rec(2, 8), watermark(40), rec(3, 8)],
      (s) =>
        s.pipe(
          slidingWindow({
            sizeMs: 10,
            slideMs: 5,
            allowedLatenessMs: 3,
            aggregate: sum,
          }),
        ),
    );
    // at 16: [0,10) fired at 9 and was cleaned at 12; [5,15) fired at 14, kept until 17
    expect(out.map(describe)).toEqual([
      "- [0,10) 1 on-time",
      "- [5,15) 1 on-time",
      "wm 16",
      "- [5,15) 3 late",
      "wm 40",
      "late 3@8",
    ]);
  });

  it("holds a record's ack until every window it is in has been acked", () => {
    const tracker = new CommitTracker("t", 0);
    const results: Record<WindowResult<number>>[] = [];
    const _s = from([
      tracked(tracker, 0, 7),
      watermark(100),
    ] as Element<number>[])
      .pipe(
        slidingWindow({ sizeMs: 10, slideMs: 5, aggregate: counter<number>() }),
      )
      .subscribe((e) => {
        if (isRecord(e)) results.push(e);
      });
    expect(results).toHaveLength(2);
    results[0]!.ack.ack();
    expect(tracker.committable).toBeUndefined();
    results[1]!.ack.ack();
    expect(tracker.committable).toBe(1);
  });

  it("settles a result's records once each of its own descendants is acked (retained result)", () => {
    const tracker = new CommitTracker("t", 0);
    const results: Record<WindowResult<number>>[] = [];
    const _s = from([
      tracked(tracker, 0, 1),
      tracked(tracker, 1, 2),
      tracked(tracker, 2, 6),
      watermark(100),
    ] as Element<number>[])
      .pipe(
        slidingWindow({ sizeMs: 10, slideMs: 5, aggregate: counter<number>() }),
      )
      .subscribe((e) => {
        if (isRecord(e)) results.push(e);
      });
    expect(results.map((r) => r.value.result)).toEqual([2, 3, 1]);
    // a step downstream turns each result into two records: retain(1), then two acks
    for (const r of results) r.ack.retain(1);
    for (const r of results) r.ack.ack();
    expect(tracker.committable).toBeUndefined();
    for (const r of results) r.ack.ack();
    expect(tracker.committable).toBe(3);
  });

  it("starts windows at offsetMs modulo the slide, not modulo the pane", () => {
    const out = runSync<number>([rec(1, 11), watermark(100)], (s) =>
      s.pipe(
        slidingWindow({ sizeMs: 9, slideMs: 6, offsetMs: 4, aggregate: sum }),
      ),
    );
    expect(out.map(describe)).toEqual([
      "- [4,13) 1 on-time",
      "- [10,19) 1 on-time",
      "wm 100",
    ]);
  });

  it("rejects a zero slide, naming the field", () => {
    expect(() =>
      slidingWindow({ sizeMs: 10, slideMs: 0, aggregate: sum }),
    ).toThrow(/slidingWindow.slideMs/);
  });
});

group("slidingWindow properties", () => {
  it("emits exactly what a window-by-window reference emits: order, firing, result and origin, also with gaps between windows and negative offsets", () => {
    fc.assert(
      fc.property(
        outOfOrder(20),
        fc.integer({ min: 0, max: 12 }),
        fc.integer({ min: 0, max: 10 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 0, max: 4 }),
        fc.boolean(),
        fc.integer({ min: -30, max: 13 }),
        fc.integer({ min: 1, max: 5 }),
        (items, bound, lateness, slide, factor, onUpdate, offset, short) => {
          // factor 0: windows shorter than the slide, with gaps between them
          const size =
            factor === 0
              ? Math.max(1, slide - short)
              : slide * factor + (factor > 2 ? 1 : 0);
          const tracker = new CommitTracker("t", 0);
          const elements: Element<number>[] = [];
          let max = -Infinity;
          items.forEach((it, offset) => {
            elements.push(
              record({
                key: it.key,
                value: it.value,
                timestamp: it.ts,
                origin: { topic: "t", partition: 0, offset },
                ack: tracker.track(offset),
              }),
            );
            max = Math.max(max, it.ts);
            elements.push(watermark(max - bound - 1));
          });
          elements.push(watermark(Infinity));
          const op = slidingWindow({
            sizeMs: size,
            slideMs: slide,
            allowedLatenessMs: lateness,
            emit: onUpdate ? "on-update" : "on-close",
            offsetMs: offset,
            aggregate: sum,
          });
          const out = runSync<number>(elements, (s) => s.pipe(op));
          // reference: one entry per (key, window), kept until end - 1 + lateness; a
          // record in no window at all (a gap) is dropped and counted
          let outside = 0;
          const gapAcked: number[] = [];
          interface W {
            key: string;
            start: number;
            sum: number;
            origin: number;
            fired: boolean;
          }
          const windows = new Map<string, W>();
          const expected: string[] = [];
          const show = (w: W, firing: string) =>
            `${w.key} [${w.start},${w.start + size}) ${w.sum} ${firing} @${w.origin}`;
          let wm = -Infinity;
          for (const e of elements) {
            if (isRecord(e)) {
              const t = e.timestamp;
              let live = 0;
              let inAny = false;
              for (
                let s = Math.floor((t - offset) / slide) * slide + offset;
                s > t - size;
                s -= slide
              ) {
                inAny = true;
                if (s + size - 1 + lateness <= wm) continue;
                live += 1;
                const id = `${e.key}|${s}`;
                let w = windows.get(id);
                if (w === undefined) {
                  w = {
                    key: e.key!,
                    start: s,
                    sum: 0,
                    origin: e.origin!.offset,
                    fired: s + size - 1 <= wm,
                  };
                  windows.set(id, w);
                }
                w.sum += e.value;
                if (w.fired) expected.push(show(w, "late"));
                else if (onUpdate) expected.push(show(w, "update"));
              }
              if (!inAny) {
                outside += 1;
                gapAcked.push(e.origin!.offset);
              } else if (live === 0) expected.push(`late ${e.value}@${t}`);
            } else if (e.kind === "watermark" && e.time > wm) {
              wm = e.time;
              const due = [...windows.values()]
                .filter((w) => !w.fired && w.start + size - 1 <= wm)
                .sort((a, b) => a.start - b.start); // stable: opening order within a start
              for (const w of due) {
                w.fired = true;
                if (!onUpdate) expected.push(show(w, "on-time"));
              }
              for (const [id, w] of windows)
                if (w.start + size - 1 + lateness <= wm) windows.delete(id);
              expected.push(`wm ${wm}`);
            }
          }
          expect(
            out.map((e) =>
              isRecord(e) ? `${describe(e)} @${e.origin!.offset}` : describe(e),
            ),
          ).toEqual(expected);
          expect(op.counters.outsideWindows).toBe(outside);
          // what was dropped is acked; nothing else is settled before its results are
          const settled = elements
            .filter(isRecord)
            .filter((r) => r.ack.settled)
            .map((r) => r.origin!.offset);
          expect(settled).toEqual(gapAcked);
        },
      ),
    );
  });

  it("accepts a negative offset as the same offset taken modulo the slide (Flink's Time.hours(-8))", () => {
    const hour = 3_600_000;
    const run = (offsetMs: number) =>
      runSync<number>(
        [rec(1, 5 * hour), rec(2, 20 * hour), watermark(Infinity)],
        (s) =>
          s.pipe(
            slidingWindow({
              sizeMs: 24 * hour,
              slideMs: 24 * hour,
              offsetMs,
              aggregate: sum,
            }),
          ),
      ).map(describe);
    // days starting at 16:00 UTC, midnight in UTC+8
    expect(run(-8 * hour)).toEqual([
      `- [${-8 * hour},${16 * hour}) 1 on-time`,
      `- [${16 * hour},${40 * hour}) 2 on-time`,
      "wm Infinity",
    ]);
    expect(run(-8 * hour)).toEqual(run(16 * hour));
  });

  it("drops, acks and counts a record between two windows instead of handing it on as late", () => {
    const tracker = new CommitTracker("t", 0);
    const op = slidingWindow({ sizeMs: 2, slideMs: 10, aggregate: sum });
    const out = runSync<number>(
      [
        tracked(tracker, 0, 1, "k", 1),
        tracked(tracker, 1, 5, "k", 2),
        watermark(Infinity),
      ],
      (s) => s.pipe(op),
    );
    expect(out.map(describe)).toEqual(["k [0,2) 1 on-time", "wm Infinity"]);
    expect(op.counters.outsideWindows).toBe(1);
    expect(out.some(isLate)).toBe(false);
    out.filter(isRecord).forEach((r) => r.ack.ack());
    expect(tracker.committable).toBe(2);
  });

  it("gives the same results as a brute-force reference on out-of-order input within the lateness", () => {
    fc.assert(
      fc.property(
        outOfOrder(40),
        fc.integer({ min: 0, max: 20 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 4 }),
        (items, bound, slide, factor) => {
          const size = slide * factor + (factor > 2 ? 1 : 0); // sometimes not a multiple of the slide
          const lateness = 40 - bound;
          const out = runSync<number>(
            withBoundedWatermarks(items, bound),
            (s) =>
              s.pipe(
                slidingWindow({
                  sizeMs: size,
                  slideMs: slide,
                  allowedLatenessMs: lateness,
                  aggregate: sum,
                }),
              ),
          );
          const expected = new Map<string, number>();
          for (const it of items) {
            for (
              let start = Math.floor(it.ts / slide) * slide;
              start > it.ts - size;
              start -= slide
            ) {
              const k = `${it.key}|${start}|${start + size}`;
              expected.set(k, (expected.get(k) ?? 0) + it.value);
            }
          }
          expect(out.filter(isLate)).toEqual([]);
          expect(finalResults(out)).toEqual(expected);
        },
      ),
    );
  });

  it("hands every record beyond lateness on exactly once and acks every other record through results", () => {
    fc.assert(
      fc.property(
        outOfOrder(60),
        fc.integer({ min: 0, max: 10 }),
        fc.integer({ min: 0, max: 10 }),
        (items, bound, lateness) => {
          const tracker = new CommitTracker("t", 0);
          const elements: Element<number>[] = [];
          let max = -Infinity;
          items.forEach((it, offset) => {
            elements.push(tracked(tracker, offset, it.ts, it.key, it.value));
            max = Math.max(max, it.ts);
            elements.push(watermark(max - bound - 1));
          });
          elements.push(watermark(Infinity));
          const out = runSync<number>(elements, (s) =>
            s.pipe(
              slidingWindow({
                sizeMs: 9,
                slideMs: 3,
                allowedLatenessMs: lateness,
                aggregate: sum,
              }),
            ),
          );
          const lates = out.filter(isLate).map((e) => e.record);
          expect(new Set(lates).size).toBe(lates.length);
          const lastEnd = (t: number) => Math.floor(t / 3) * 3 + 9;
          expect(lates).toEqual(expectedLate(elements, lastEnd, lateness));
          for (const e of out) if (isRecord(e)) e.ack.ack();
          for (const r of lates) r.ack.ack();
          expect(tracker.committable).toBe(
            items.length === 0 ? undefined : items.length,
          );
        },
      ),
    );
  });
});
