import fc from "fast-check";
import {
  asyncScheduler,
  catchError,
  concat,
  concatMap,
  ignoreElements,
  map,
  mergeMap,
  of,
  tap,
  throwError,
  timer,
  type Observable,
} from "rxjs";
import { describe, expect, it } from "vitest";
import { CommitTracker } from "./commit-tracker.js";
import { deadLetter, type DeadLetter } from "./dead-letter.js";
import { rec, testScheduler } from "./internal/testing/records.js";
import type { Outcome } from "./outcome.js";
import { parkingLot } from "./parking-lot.js";
import type { Record } from "./record.js";
import { SluiceError } from "./sluice-error.js";

/** Fails records whose value is negative ("poison"); the rest succeed after 1 ms. */
const step = (r: Record<number>): Observable<number> =>
  r.value < 0
    ? throwError(() => new SluiceError("PROCESS", "poison"))
    : timer(1).pipe(map(() => r.value));
const show = map((o: Outcome<number, number>) =>
  o.kind === "ok" ? `${o.record.key}${o.record.value}` : `${o.record.key}!`,
);
/** Settles every outcome's handle as a sink and a dead-letter sink would, after `ms`. */
const settleAfter = (ms: number) => (o: Outcome<number, number>) =>
  timer(ms).pipe(map(() => o.record.ack.ack()));

describe("parkingLot", () => {
  it("completes at once on an empty source", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(
        cold<Record<number>>("|").pipe(parkingLot(step), show),
      ).toBe("|");
    });
  });

  it("passes one success through", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(
        cold("a|", { a: rec("x", 1) }).pipe(parkingLot(step), show),
      ).toBe("-(a|)", { a: "x1" });
    });
  });

  it("holds a key's later records until its failed record is settled, while other keys go on", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const src = cold("(abc)|", {
        a: rec("x", -1),
        b: rec("x", 2),
        c: rec("y", 3),
      });
      const out = src.pipe(parkingLot(step));
      // The failed x record is settled at 5; x2 runs only then and ends at 6.
      const settled = out.pipe(
        mergeMap((o) =>
          o.kind === "failed"
            ? concat(
                of(o),
                timer(5).pipe(
                  tap(() => o.record.ack.ack()),
                  ignoreElements(),
                ),
              )
            : of(o),
        ),
      );
      expectObservable(settled.pipe(show)).toBe("a(c)--(b|)", {
        a: "x!",
        b: "x2",
        c: "y3",
      });
    });
  });

  it("releases the key when the dead-letter sink acks the failed record", () => {
    const tracker = new CommitTracker("t", 0);
    testScheduler().run(({ cold, expectObservable }) => {
      const src = cold("(ab)|", {
        a: rec("x", -1, 0, tracker.track(0)),
        b: rec("x", 2, 1, tracker.track(1)),
      });
      const sink = (dl$: Observable<Record<DeadLetter<number>>>) =>
        dl$.pipe(concatMap((d) => timer(3).pipe(tap(() => d.ack.ack()))));
      const out = src.pipe(
        parkingLot(step),
        deadLetter({ policy: "DEAD_LETTER", sink }),
        tap((r) => r.ack.ack()),
        map((r) => r.value),
      );
      expectObservable(out).toBe("----(b|)", { b: 2 });
    });
    expect(tracker.committable).toBe(2);
  });

  it("releases the key when the failed record is nacked for redelivery", () => {
    const tracker = new CommitTracker("t", 0);
    testScheduler().run(({ cold, expectObservable }) => {
      const src = cold("(ab)|", {
        a: rec("x", -1, 0, tracker.track(0)),
        b: rec("x", 2, 1, tracker.track(1)),
      });
      const out = src.pipe(
        parkingLot(step),
        tap((o) => o.kind === "failed" && o.record.ack.nack(o.error)),
        show,
      );
      expectObservable(out).toBe("ab--|", { a: "x!", b: "x2" });
    });
    expect(tracker.failedOffsets).toEqual([0]);
  });

  it("counts held records against maxBuffered", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const src = cold("abc|", {
        a: rec("x", -1),
        b: rec("x", 2),
        c: rec("x", 3),
      });
      const out = src.pipe(
        parkingLot(step, { maxBuffered: 1 }),
        show,
        catchError((e: SluiceError) => of(`#${e.code}`)),
      );
      expectObservable(out).toBe("a-(e|)", { a: "x!", e: "#BACKPRESSURE" });
    });
  });

  it("turns a step that throws into a failed outcome", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const throwing = (): Observable<number> => {
        throw new Error("bug");
      };
      expectObservable(
        cold("a|", { a: rec("x", 1) }).pipe(
          parkingLot(throwing),
          concatMap(settleAfter(0)),
        ),
      ).toBe("a|", { a: undefined });
    });
  });

  it("forwards a source error", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(
        cold("a#", { a: rec("x", 1) }).pipe(parkingLot(step), show),
      ).toBe("-#");
    });
  });

  it("keeps running on a never-ending source", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(
        cold("a-", { a: rec("x", 1) }).pipe(parkingLot(step), show),
      ).toBe("-a", { a: "x1" });
    });
  });

  it("unsubscribes from the source on early unsubscribe and settles nothing itself", () => {
    const tracker = new CommitTracker("t", 0);
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const src = cold("a-b|", {
        a: rec("x", -1, 0, tracker.track(0)),
        b: rec("x", 2, 1, tracker.track(1)),
      });
      expectObservable(src.pipe(parkingLot(step), show), "^-!").toBe("a-", {
        a: "x!",
      });
      expectSubscriptions(src.subscriptions).toBe("^-!");
    });
    expect(tracker.committable).toBeUndefined();
  });

  it("never parks keyless records", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const src = cold("(ab)|", {
        a: rec(undefined, -1),
        b: rec(undefined, 2),
      });
      expectObservable(src.pipe(parkingLot(step), show)).toBe("ab--|", {
        a: "undefined!",
        b: "undefined2",
      });
    });
  });

  it("acks through the stand-in handle exactly once", () => {
    const tracker = new CommitTracker("t", 0);
    const out: Outcome<number, number>[] = [];
    const sub = of(rec("x", -1, 0, tracker.track(0)))
      .pipe(parkingLot(step))
      .subscribe((o) => out.push(o));
    const failed = out[0]!;
    expect(failed.kind).toBe("failed");
    failed.record.ack.ack();
    failed.record.ack.ack();
    expect(tracker.committable).toBe(1);
    sub.unsubscribe();
  });

  it("never starts a key's record before the key's earlier failure is settled (property)", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            key: fc.constantFrom("a", "b"),
            fail: fc.boolean(),
            stepMs: fc.integer({ min: 0, max: 4 }),
            settleMs: fc.integer({ min: 0, max: 6 }),
          }),
          { maxLength: 25 },
        ),
        fc.integer({ min: 1, max: 3 }),
        (items, concurrency) => {
          const started: { i: number; at: number }[] = [];
          const settledAt = new Map<number, number>();
          testScheduler().run(({ cold }) => {
            const marble =
              items.map((_, i) => String.fromCharCode(0x100 + i)).join("") +
              "|";
            const vals = Object.fromEntries(
              items.map((it, i) => [
                String.fromCharCode(0x100 + i),
                rec(it.key, i),
              ]),
            );
            const work = (r: Record<number>): Observable<number> => {
              started.push({ i: r.value, at: asyncScheduler.now() });
              const it = items[r.value]!;
              return timer(it.stepMs).pipe(
                concatMap(() =>
                  it.fail
                    ? throwError(() => new SluiceError("PROCESS", "poison"))
                    : of(r.value),
                ),
              );
            };
            return cold(marble, vals)
              .pipe(
                parkingLot(work, { concurrency }),
                mergeMap((o) =>
                  timer(
                    o.kind === "failed" ? items[o.record.value]!.settleMs : 0,
                  ).pipe(
                    tap(() => {
                      settledAt.set(o.record.value, asyncScheduler.now());
                      o.record.ack.ack();
                    }),
                  ),
                ),
              )
              .subscribe();
          });
          expect(started).toHaveLength(items.length);
          const startOf = new Map(started.map((s) => [s.i, s.at]));
          items.forEach((it, i) => {
            if (!it.fail) return;
            items.forEach((later, j) => {
              if (j > i && later.key === it.key)
                expect(startOf.get(j)!).toBeGreaterThanOrEqual(
                  settledAt.get(i)!,
                );
            });
          });
          for (const key of ["a", "b"]) {
            const order = started
              .filter((s) => items[s.i]!.key === key)
              .map((s) => s.i);
            expect(order).toEqual([...order].sort((x, y) => x - y));
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
