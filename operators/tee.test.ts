import fc from "fast-check";
import {
  catchError,
  from,
  ignoreElements,
  lastValueFrom,
  map,
  of,
  take,
  tap,
  toArray,
} from "rxjs";
import type { OperatorFunction } from "rxjs";
import { describe, expect, it } from "vitest";
import { counted, trackedRecords } from "./internal/testing/acks.js";
import { testScheduler } from "./internal/testing/records.js";
import type { Record } from "./record.js";
import { SluiceError } from "./sluice-error.js";
import { tee } from "./tee.js";

/** A branch that tags what it sees (and optionally acks it, as a sink would). */
const tag =
  (name: string, ack = false): OperatorFunction<Record<number>, string> =>
  (s) =>
    s.pipe(
      tap((r) => {
        if (ack) r.ack.ack();
      }),
      map((r) => `${name}${r.value}`),
    );

describe("tee", () => {
  it("completes at once on an empty source", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(
        cold<Record<number>>("|").pipe(tee(tag("x"), tag("y"))),
      ).toBe("|");
    });
  });

  it("hands one record to every branch and settles it only when every branch has acked its copy", () => {
    const a = counted(1);
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(
        cold("a---|", { a }).pipe(tee(tag("x", true), tag("y"))),
      ).toBe("(xy)|", { x: "x1", y: "y1" });
    });
    expect(a.ack.settled).toBe(false); // y has not acked its copy
  });

  it("subscribes the source once and broadcasts many records in order", () => {
    const rs = [1, 2, 3].map((v, i) => counted(v, i));
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const src = cold("abc|", { a: rs[0]!, b: rs[1]!, c: rs[2]! });
      expectObservable(
        src.pipe(tee(tag("x", true), tag("y", true)), toArray()),
      ).toBe("---(r|)", { r: ["x1", "y1", "x2", "y2", "x3", "y3"] });
      expectSubscriptions(src.subscriptions).toBe("^--!");
    });
    expect(rs.map((r) => r.ack.settled)).toEqual([true, true, true]);
  });

  it("a synchronous ack in the first branch does not finish the record before the second branch sees it", () => {
    const a = counted(1);
    const seen: boolean[] = [];
    const observe: OperatorFunction<Record<number>, string> = (s) =>
      s.pipe(
        tap(() => seen.push(a.ack.settled)),
        tap((r) => r.ack.ack()),
        map(() => "y"),
      );
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(
        cold("a---|", { a }).pipe(tee(tag("x", true), observe)),
      ).toBe("(xy)|", { x: "x1", y: "y" });
    });
    expect(seen).toEqual([false]);
    expect(a.ack.settled).toBe(true);
    expect(a.ack.acks).toBe(2);
  });

  it("nacks the record when any branch nacks its copy", async () => {
    const a = counted(1);
    const nacking: OperatorFunction<Record<number>, string> = (s) =>
      s.pipe(
        tap((r) => r.ack.nack(new SluiceError("UNAVAILABLE", "down"))),
        map(() => "n"),
      );
    await lastValueFrom(of(a).pipe(tee(tag("x", true), nacking), toArray()));
    expect(a.ack.nacks.map((e) => e.code)).toEqual(["UNAVAILABLE"]);
  });

  it("forwards a source error after what came before", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(
        cold("a---#", { a: counted(1) }).pipe(tee(tag("x"), tag("y"))),
      ).toBe("(xy)#", { x: "x1", y: "y1" });
    });
  });

  it("does not complete while the source does not", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(
        cold("a-", { a: counted(1) }).pipe(tee(tag("x"), tag("y"))),
      ).toBe("(xy)", { x: "x1", y: "y1" });
    });
  });

  it("unsubscribes from the source once when the consumer does", () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const src = cold("a-b-c|", {
        a: counted(1),
        b: counted(2),
        c: counted(3),
      });
      expectObservable(src.pipe(tee(tag("x"), tag("y"))), "^-!").toBe("(xy)", {
        x: "x1",
        y: "y1",
      });
      expectSubscriptions(src.subscriptions).toBe("^-!");
    });
  });

  it("errors the stream when a branch's callback throws", () => {
    const throwing: OperatorFunction<Record<number>, string> = (s) =>
      s.pipe(
        map(() => {
          throw new SluiceError("PROCESS", "branch failed");
        }),
      );
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(
        cold("a|", { a: counted(1) }).pipe(
          tee(tag("x"), throwing),
          catchError((e: unknown) =>
            of(e instanceof SluiceError ? e.message : "?"),
          ),
        ),
      ).toBe("(xe|)", { x: "x1", e: "branch failed" });
    });
  });

  it("refuses no branches with a CONFIG error naming the field", () => {
    expect(() => tee()).toThrow(/branches must hold at least one/);
  });

  it("with one branch is a pass-through that settles through that branch", async () => {
    const a = counted(4);
    const out = await lastValueFrom(of(a).pipe(tee(tag("x", true)), toArray()));
    expect(out).toEqual(["x4"]);
    expect(a.ack.acks).toBe(1);
    expect(a.ack.retained).toBe(0);
  });

  it("property: the commit point reaches the end iff every branch acked every record", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 30 }),
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 40 }),
        async (n, branches, ackFlags) => {
          const { tracker, records } = trackedRecords(
            Array.from({ length: n }, (_, i) => i),
          );
          const held: Record<number>[] = [];
          await lastValueFrom(
            from(records).pipe(
              tee(
                ...Array.from({ length: branches }, () =>
                  tap((r: Record<number>) => held.push(r)),
                ),
              ),
              ignoreElements(),
              take(1),
            ),
            { defaultValue: undefined },
          );
          let allAcked = true;
          held.forEach((r, i) => {
            if (ackFlags[i % ackFlags.length]!) r.ack.ack();
            else allAcked = false;
          });
          expect(held).toHaveLength(n * branches);
          const end = n === 0 ? undefined : n;
          expect(tracker.committable === end).toBe(allAcked);
        },
      ),
    );
  });
});
