import fc from "fast-check";
import { catchError, map, NEVER, of, throwError, timer } from "rxjs";
import { describe, expect, it } from "vitest";
import { CommitTracker } from "./commit-tracker.js";
import { rec, testScheduler } from "./internal/testing/records.js";
import { keyOrderedMap } from "./key-ordered-map.js";
import type { Outcome } from "./outcome.js";
import { pressureGauge } from "./pressure-gauge.js";
import type { Record } from "./record.js";
import { SluiceError } from "./sluice-error.js";

const show = map((o: Outcome<number, number>) =>
  o.kind === "ok"
    ? `${o.record.key}${o.record.value}`
    : `${o.record.key}!${o.error.code}`,
);

/** A step that takes `value` virtual milliseconds and returns the value times ten. */
const slow = (r: Record<number>) =>
  timer(r.value).pipe(map(() => r.value * 10));

describe("keyOrderedMap", () => {
  it("completes at once on an empty source", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(
        cold<Record<number>>("|").pipe(keyOrderedMap(slow), show),
      ).toBe("|");
    });
  });

  it("emits one derived record for one input", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const src = cold("a|", { a: rec("x", 2) });
      expectObservable(src.pipe(keyOrderedMap(slow), show)).toBe("--(a|)", {
        a: "x20",
      });
    });
  });

  it("runs different keys in parallel and one key in order", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const src = cold("(abc)|", {
        a: rec("x", 5),
        b: rec("x", 1),
        c: rec("y", 2),
      });
      // x5 ends at 5, then x1 at 6; y2 at 2 does not wait for key x.
      expectObservable(src.pipe(keyOrderedMap(slow), show)).toBe("--c--a(b|)", {
        a: "x50",
        b: "x10",
        c: "y20",
      });
    });
  });

  it("keeps FIFO per partition in partition mode", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const src = cold("(abc)|", {
        a: rec("x", 3, 0, undefined, 0),
        b: rec("y", 1, 1, undefined, 0),
        c: rec("z", 1, 2, undefined, 1),
      });
      expectObservable(
        src.pipe(keyOrderedMap(slow, { ordering: "partition" }), show),
      ).toBe("-c-ab|", { a: "x30", b: "y10", c: "z10" });
    });
  });

  it("lets records of one key overtake each other in unordered mode", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const src = cold("(ab)|", { a: rec("x", 3), b: rec("x", 1) });
      expectObservable(
        src.pipe(keyOrderedMap(slow, { ordering: "unordered" }), show),
      ).toBe("-b-a|", { a: "x30", b: "x10" });
    });
  });

  it("never runs more steps at once than the concurrency cap", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const src = cold("(abc)|", {
        a: rec("x", 4),
        b: rec("y", 4),
        c: rec("z", 4),
      });
      expectObservable(
        src.pipe(keyOrderedMap(slow, { concurrency: 2 }), show),
      ).toBe("----(ab)(c|)", { a: "x40", b: "y40", c: "z40" });
    });
  });

  it("forwards a source error and drops the calls in flight", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const src = cold("a-#", { a: rec("x", 5) });
      expectObservable(src.pipe(keyOrderedMap(slow), show)).toBe("--#");
    });
  });

  it("keeps running on a never-ending source", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const src = cold("a-", { a: rec("x", 1) });
      expectObservable(src.pipe(keyOrderedMap(slow), show)).toBe("-a", {
        a: "x10",
      });
    });
  });

  it("unsubscribes from the source and from running calls on early unsubscribe", () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const src = cold("a-b-c-|", {
        a: rec("x", 1),
        b: rec("x", 9),
        c: rec("x", 1),
      });
      expectObservable(src.pipe(keyOrderedMap(slow), show), "^--!").toBe(
        "-a-",
        { a: "x10" },
      );
      expectSubscriptions(src.subscriptions).toBe("^--!");
    });
  });

  it("turns a step that throws into a failed outcome and goes on", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const src = cold("ab|", { a: rec("x", 1), b: rec("x", 2) });
      const step = (r: Record<number>) => {
        if (r.value === 1) throw new Error("boom");
        return of(r.value);
      };
      expectObservable(src.pipe(keyOrderedMap(step), show)).toBe("ab|", {
        a: "x!PROCESS",
        b: "x2",
      });
    });
  });

  it("keeps the SluiceError of a failing step with its code", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const src = cold("a|", { a: rec("x", 1) });
      const step = () => throwError(() => new SluiceError("NOT_FOUND", "gone"));
      expectObservable(src.pipe(keyOrderedMap(step), show)).toBe("a|", {
        a: "x!NOT_FOUND",
      });
    });
  });

  it("fails a call that passes its timeout with a retryable TIMEOUT", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const src = cold("a|", { a: rec("x", 1) });
      expectObservable(
        src.pipe(
          keyOrderedMap(() => NEVER, { timeoutMs: 5 }),
          show,
        ),
      ).toBe("-----(a|)", { a: "x!TIMEOUT" });
    });
  });

  it("marks a timeout as retryable", () => {
    const out: Outcome<number, never>[] = [];
    testScheduler().run(({ cold }) => {
      const sub = cold("a|", { a: rec("x", 1) })
        .pipe(keyOrderedMap(() => NEVER, { timeoutMs: 5 }))
        .subscribe((o) => out.push(o));
      return sub;
    });
    const first = out[0]!;
    expect(
      first.kind === "failed" &&
        first.error.retryable &&
        first.error.code === "TIMEOUT",
    ).toBe(true);
  });

  it("fails a step that completes without a value", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const src = cold("a|", { a: rec("x", 1) });
      expectObservable(
        src.pipe(
          keyOrderedMap(() => of<number>()),
          show,
        ),
      ).toBe("a|", { a: "x!PROCESS" });
    });
  });

  it("errors with BACKPRESSURE when more than maxBuffered records wait", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const src = cold("abc|", {
        a: rec("x", 9),
        b: rec("x", 9),
        c: rec("x", 9),
      });
      const result = src.pipe(
        keyOrderedMap(slow, { concurrency: 1, maxBuffered: 1 }),
        show,
        catchError((e: SluiceError) => of(`#${e.code}`)),
      );
      expectObservable(result).toBe("--(e|)", { e: "#BACKPRESSURE" });
    });
  });

  it("signals pause above the gauge's high watermark and resume below its low one", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const gauge = pressureGauge<Record<number>>({
        highCount: 2,
        lowCount: 0,
      });
      const src = cold("-(abc)|", {
        a: rec("x", 2),
        b: rec("x", 2),
        c: rec("x", 2),
      });
      expectObservable(src.pipe(keyOrderedMap(slow, { gauge }), show)).toBe(
        "---a-b-(c|)",
        { a: "x20", b: "x20", c: "x20" },
      );
      // a runs, b and c wait: pause; once c starts at 5 nothing waits: resume.
      expectObservable(gauge.signal$).toBe("rp---r", {
        p: "pause",
        r: "resume",
      });
    });
  });

  it("emits derived records that hold the parent's ack handle", () => {
    const tracker = new CommitTracker("t", 0);
    const inputs = [
      rec("x", 1, 0, tracker.track(0)),
      rec("y", 2, 1, tracker.track(1)),
    ];
    const out: Outcome<number, number>[] = [];
    const sub = of(...inputs)
      .pipe(keyOrderedMap((r) => of(r.value + 1)))
      .subscribe((o) => out.push(o));
    sub.unsubscribe();
    expect(out.map((o) => o.record.ack)).toEqual(inputs.map((r) => r.ack));
    expect(tracker.committable).toBeUndefined();
    for (const o of out) o.record.ack.ack();
    expect(tracker.committable).toBe(2);
  });

  it("rejects a bad concurrency naming the field", () => {
    expect(() => keyOrderedMap(slow, { concurrency: 0 })).toThrow(
      /keyOrderedMap.concurrency/,
    );
  });

  it("keeps per-key order for any completion timing (property)", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            key: fc.constantFrom("a", "b", "c", undefined),
            delay: fc.integer({ min: 0, max: 20 }),
            gap: fc.integer({ min: 0, max: 3 }),
          }),
          { maxLength: 40 },
        ),
        fc.integer({ min: 1, max: 4 }),
        (items, concurrency) => {
          const out: Outcome<number, number>[] = [];
          testScheduler().run(({ cold }) => {
            const delays = items.map((i) => i.delay);
            // Build the source by hand: one emission per item after its gap.
            const source = cold<Record<number>>(
              items
                .map(
                  (it, i) =>
                    `${it.gap === 0 ? "" : `${it.gap}ms `}(${String.fromCharCode(0x100 + i)})`,
                )
                .join(" ") + " |",
              Object.fromEntries(
                items.map((it, i) => [
                  String.fromCharCode(0x100 + i),
                  rec(it.key, i),
                ]),
              ),
            );
            return source
              .pipe(
                keyOrderedMap(
                  (r) => timer(delays[r.value]!).pipe(map(() => r.value)),
                  { concurrency },
                ),
              )
              .subscribe((o) => out.push(o));
          });
          expect(out).toHaveLength(items.length);
          for (const key of ["a", "b", "c"]) {
            const seen = out
              .filter((o) => o.record.key === key)
              .map((o) => o.record.value);
            expect(seen).toEqual([...seen].sort((x, y) => x - y));
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
