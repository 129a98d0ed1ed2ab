import { describe as group, expect, it } from "vitest";
import { asyncScheduler, map, from, Subject } from "rxjs";
import fc from "fast-check";
import { withWatermarks } from "./with-watermarks.js";
import type { Element } from "./element.js";
import { isWatermark } from "./element.js";
import type { Record } from "./record.js";
import { rec, testScheduler } from "./internal/event-time-testing.js";

const show = (e: Element<number>): string =>
  isWatermark(e) ? `w${e.time}` : `r${e.value}`;
const ts = () => testScheduler((a, b) => expect(a).toEqual(b));

group("withWatermarks", () => {
  it("completes an empty source with a final watermark", () => {
    ts().run(({ cold, expectObservable }) => {
      const out = cold<Record<number>>("|").pipe(
        withWatermarks<number>({ maxOutOfOrdernessMs: 0 }),
        map(show),
      );
      expectObservable(out).toBe("(w|)", { w: "wInfinity" });
    });
  });

  it("passes one record through and follows it with its watermark", () => {
    ts().run(({ cold, expectObservable }) => {
      const out = cold("a 9ms |", { a: rec(1, 100) }).pipe(
        withWatermarks({ maxOutOfOrdernessMs: 10 }),
        map(show),
      );
      expectObservable(out).toBe("(ab) 6ms (c|)", {
        a: "r1",
        b: "w89",
        c: "wInfinity",
      });
    });
  });

  it("advances only when the highest timestamp advances, never backwards", () => {
    ts().run(({ cold, expectObservable }) => {
      const out = cold("a 9ms b 9ms c", {
        a: rec(1, 100),
        b: rec(2, 90),
        c: rec(3, 120),
      }).pipe(
        withWatermarks({ maxOutOfOrdernessMs: 0, onComplete: "none" }),
        map(show),
      );
      expectObservable(out).toBe("(ab) 6ms c 9ms (de)", {
        a: "r1",
        b: "w99",
        c: "r2",
        d: "r3",
        e: "w119",
      });
    });
  });

  it("takes the minimum over partitions", () => {
    ts().run(({ cold, expectObservable }) => {
      const out = cold("a 9ms b 9ms c", {
        a: rec(1, 100, "k", 0),
        b: rec(2, 200, "k", 1),
        c: rec(3, 150, "k", 0),
      }).pipe(withWatermarks({ maxOutOfOrdernessMs: 0 }), map(show));
      expectObservable(out).toBe("(ab) 6ms c 9ms (de)", {
        a: "r1",
        b: "w99",
        c: "r2",
        d: "r3",
        e: "w149",
      });
    });
  });

  it("excludes an idle partition from the minimum after the idle timeout", () => {
    ts().run(({ cold, expectObservable, time }) => {
      const t = time("---------------|");
      const src = cold("a 9ms b 19ms c", {
        a: rec(1, 100, "k", 0),
        b: rec(2, 200, "k", 1),
        c: rec(3, 210, "k", 1),
      });
      const out = src.pipe(
        withWatermarks({
          maxOutOfOrdernessMs: 0,
          idleTimeoutMs: t,
          onComplete: "none",
        }),
        map(show),
      );
      expectObservable(out).toBe("(ab) 6ms c 4ms d 14ms (ef)", {
        a: "r1",
        b: "w99",
        c: "r2",
        d: "w199",
        e: "r3",
        f: "w209",
      });
    });
  });

  it("holds the watermark when every partition is idle under the hold policy", () => {
    ts().run(({ cold, expectObservable }) => {
      const out = cold("a 20ms b", { a: rec(1, 100), b: rec(2, 101) }).pipe(
        withWatermarks({
          maxOutOfOrdernessMs: 0,
          idleTimeoutMs: 5,
          allIdle: "hold",
          onComplete: "none",
        }),
        map(show),
      );
      expectObservable(out).toBe("(ab) 17ms (cd)", {
        a: "r1",
        b: "w99",
        c: "r2",
        d: "w100",
      });
    });
  });

  it("advances with the wall clock when every partition is idle under the advance policy", () => {
    ts().run(({ cold, expectObservable }) => {
      const out = cold("a 20ms b", { a: rec(1, 0), b: rec(2, 22) }).pipe(
        withWatermarks({
          maxOutOfOrdernessMs: 2,
          idleTimeoutMs: 5,
          wallClockIntervalMs: 5,
          allIdle: "advance-with-wall-clock",
          onComplete: "none",
        }),
        map(show),
      );
      // idle at 5 → 5-2-1 = 2, then 7 at 10, 12 at 15, 17 at 20; the record at 21 stops the clock; idle again at 26.
      expectObservable(out, "^ 28ms !").toBe(
        "(ah) 1ms b 4ms c 4ms d 4ms e (fg) 1ms i",
        {
          i: "w23",
          h: "w-3",
          a: "r1",
          b: "w2",
          c: "w7",
          d: "w12",
          e: "w17",
          f: "r2",
          g: "w19",
        },
      );
    });
  });

  it("keeps a silent partition with a backlog active, and the wall clock still, until its source is caught up", () => {
    const asked: number[] = [];
    ts().run(({ cold, expectObservable }) => {
      const out = cold("a 30ms b", {
        a: rec(1, 0, "k", 0),
        b: rec(2, 3, "k", 0),
      }).pipe(
        withWatermarks({
          maxOutOfOrdernessMs: 2,
          idleTimeoutMs: 5,
          wallClockIntervalMs: 5,
          allIdle: "advance-with-wall-clock",
          onComplete: "none",
          // The source has unread records until 20 ms (a stall while reading a backlog).
          isCaughtUp: (tp) => {
            expect(tp).toEqual({ topic: "t", partition: 0 });
            asked.push(asyncScheduler.now());
            return asyncScheduler.now() >= 20;
          },
        }),
        map(show),
      );
      // Silent from 5 ms on, but not idle while the backlog lasts; idle at 20 once caught
      // up: the wall clock moves the watermark to 20-2-1 = 17, then 22 and 27.
      expectObservable(out, "^ 33ms !").toBe("(ah) 16ms c 4ms d 4ms ef", {
        a: "r1",
        h: "w-3",
        c: "w17",
        d: "w22",
        e: "w27",
        f: "r2",
      });
    });
    // Asked at each idle deadline until caught up, then before each wall-clock advance.
    expect(asked).toEqual([5, 10, 15, 20, 20, 25, 30]);
  });

  it("treats a partition whose source does not know its lag as caught up", () => {
    ts().run(({ cold, expectObservable }) => {
      const out = cold("a", { a: rec(1, 0, "k", 0) }).pipe(
        withWatermarks({
          maxOutOfOrdernessMs: 2,
          idleTimeoutMs: 5,
          allIdle: "advance-with-wall-clock",
          isCaughtUp: () => undefined,
        }),
        map(show),
      );
      expectObservable(out, "^ 6ms !").toBe("(ah) 1ms c", {
        a: "r1",
        h: "w-3",
        c: "w2",
      });
    });
  });

  it("emits periodically when an emit interval is set", () => {
    ts().run(({ cold, expectObservable }) => {
      const out = cold("ab-c----", {
        a: rec(1, 10),
        b: rec(2, 20),
        c: rec(3, 30),
      }).pipe(
        withWatermarks({
          maxOutOfOrdernessMs: 0,
          emitIntervalMs: 5,
          onComplete: "none",
        }),
        map(show),
      );
      expectObservable(out, "^ 12ms !").toBe("ab-c-d", {
        a: "r1",
        b: "r2",
        c: "r3",
        d: "w29",
      });
    });
  });

  it("forwards an error", () => {
    ts().run(({ cold, expectObservable }) => {
      const out = cold("a 9ms #", { a: rec(1, 10) }).pipe(
        withWatermarks({ maxOutOfOrdernessMs: 0 }),
        map(show),
      );
      expectObservable(out).toBe("(ab) 6ms #", { a: "r1", b: "w9" });
    });
  });

  it("does not complete while the source does not", () => {
    ts().run(({ cold, expectObservable }) => {
      const out = cold("a-", { a: rec(1, 10) }).pipe(
        withWatermarks({ maxOutOfOrdernessMs: 0 }),
        map(show),
      );
      expectObservable(out).toBe("(ab)-", { a: "r1", b: "w9" });
    });
  });

  it("stops its timers on early unsubscribe", () => {
    ts().run(({ cold, expectObservable, expectSubscriptions }) => {
      const src = cold("a 9ms b 9ms c", {
        a: rec(1, 10),
        b: rec(2, 20),
        c: rec(3, 30),
      });
      const out = src.pipe(
        withWatermarks({
          maxOutOfOrdernessMs: 0,
          idleTimeoutMs: 1,
          allIdle: "advance-with-wall-clock",
        }),
        map(show),
      );
      expectObservable(out, "^ 15ms !").toBe("(ab) 6ms (cd)", {
        a: "r1",
        b: "w9",
        c: "r2",
        d: "w19",
      });
      expectSubscriptions(src.subscriptions).toBe("^ 15ms !");
    });
  });

  it("errors when the timestamp callback throws", () => {
    ts().run(({ cold, expectObservable }) => {
      const out = cold("a", { a: rec(1, 10) }).pipe(
        withWatermarks<number>({
          maxOutOfOrdernessMs: 0,
          timestampOf: () => {
            throw new Error("boom");
          },
        }),
        map(show),
      );
      expectObservable(out).toBe("#", undefined, new Error("boom"));
    });
  });

  it("rejects a missing idle timeout with the wall-clock policy, naming the field", () => {
    expect(() =>
      withWatermarks({
        maxOutOfOrdernessMs: 0,
        allIdle: "advance-with-wall-clock",
      }),
    ).toThrow(/idleTimeoutMs/);
  });

  it("is monotonic and never passes the lowest partition maximum minus the bound while partitions are active", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.integer({ min: 0, max: 3 }),
            fc.integer({ min: 0, max: 1000 }),
          ),
          { maxLength: 60 },
        ),
        fc.integer({ min: 0, max: 50 }),
        (items, bound) => {
          const max = new Map<number, number>();
          let last = -Infinity;
          let ok = true;
          const input = new Subject<Record<number>>();
          const _s2 = input
            .pipe(
              withWatermarks<number>({
                maxOutOfOrdernessMs: bound,
                onComplete: "none",
              }),
            )
            .subscribe((e) => {
              if (!isWatermark(e)) return;
              if (e.time <= last) ok = false;
              last = e.time;
              const lowest = Math.min(...max.values());
              if (e.time > lowest - bound - 1) ok = false;
            });
          for (const [p, t] of items) {
            max.set(p, Math.max(max.get(p) ?? -Infinity, t));
            input.next(rec(t, t, "k", p));
          }
          return ok;
        },
      ),
    );
  });

  it("passes records through in order, untouched", () => {
    const records = [rec(1, 5), rec(2, 3)];
    const seen: Element<number>[] = [];
    const _s1 = from(records)
      .pipe(withWatermarks<number>({ maxOutOfOrdernessMs: 0 }))
      .subscribe((e) => seen.push(e));
    expect(seen.filter((e) => !isWatermark(e))).toEqual(records);
    expect(seen.filter((e) => !isWatermark(e))[0]).toBe(records[0]);
  });
});
