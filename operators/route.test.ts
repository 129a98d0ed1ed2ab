import fc from "fast-check";
import { catchError, from, lastValueFrom, map, of, tap, toArray } from "rxjs";
import type { OperatorFunction } from "rxjs";
import { describe, expect, it } from "vitest";
import { counted, trackedRecords } from "./internal/testing/acks.js";
import { testScheduler } from "./internal/testing/records.js";
import type { Record } from "./record.js";
import { branch, route } from "./route.js";
import { SluiceError } from "./sluice-error.js";

type Shape =
  | { readonly kind: "a"; readonly n: number }
  | { readonly kind: "b" }
  | { readonly kind: "c" };
const isA = (r: Record<Shape>): r is Record<Extract<Shape, { kind: "a" }>> =>
  r.value.kind === "a";
const isB = (r: Record<Shape>) => r.value.kind === "b";
const name =
  (n: string): OperatorFunction<Record<Shape>, string> =>
  (s) =>
    s.pipe(map((r) => `${n}:${r.value.kind}`));
const A = (n = 1) => counted<Shape>({ kind: "a", n });
const B = () => counted<Shape>({ kind: "b" });
const C = () => counted<Shape>({ kind: "c" });

describe("route", () => {
  it("completes at once on an empty source", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(
        cold<Record<Shape>>("|").pipe(route(branch(isB, name("b")))),
      ).toBe("|");
    });
  });

  it("sends one record to its branch without settling it", () => {
    const b = B();
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(
        cold("x|", { x: b }).pipe(route(branch(isB, name("b")))),
      ).toBe("x|", { x: "b:b" });
    });
    expect(b.ack.acks).toBe(0);
  });

  it("sends each of many records to the first branch that takes it, narrowed, and acks the unmatched, subscribing once", () => {
    const rs = [A(5), B(), C(), A(6)];
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const src = cold("wxyz|", { w: rs[0]!, x: rs[1]!, y: rs[2]!, z: rs[3]! });
      expectObservable(
        src.pipe(
          route(
            branch(isA, (s) => s.pipe(map((r) => `a${r.value.n}`))),
            branch(isB, name("b")),
            branch(isB, name("never")),
          ),
        ),
      ).toBe("wx-z|", { w: "a5", x: "b:b", z: "a6" });
      expectSubscriptions(src.subscriptions).toBe("^---!");
    });
    expect(rs.map((r) => r.ack.acks)).toEqual([0, 0, 1, 0]);
  });

  it("forwards a source error after what came before", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(
        cold("x#", { x: B() }).pipe(route(branch(isB, name("b")))),
      ).toBe("x#", { x: "b:b" });
    });
  });

  it("does not complete while the source does not", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(
        cold("x-", { x: B() }).pipe(route(branch(isB, name("b")))),
      ).toBe("x-", { x: "b:b" });
    });
  });

  it("unsubscribes from the source when the consumer does", () => {
    const rs = [C(), C(), C()];
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const src = cold("x-y-z|", { x: rs[0]!, y: rs[1]!, z: rs[2]! });
      expectObservable(src.pipe(route(branch(isB, name("b")))), "^-!").toBe(
        "---",
      );
      expectSubscriptions(src.subscriptions).toBe("^-!");
    });
    expect(rs.map((r) => r.ack.acks)).toEqual([1, 0, 0]);
  });

  it("nacks the record and errors the stream with a PROCESS SluiceError when a predicate throws", () => {
    const b = B();
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(
        cold("x|", { x: b }).pipe(
          route(
            branch(() => {
              throw new Error("bad predicate");
            }, name("b")),
          ),
          catchError((e: unknown) =>
            of(e instanceof SluiceError ? `${e.code} ${e.message}` : "?"),
          ),
        ),
      ).toBe("(e|)", { e: "PROCESS bad predicate" });
    });
    expect(b.ack.nacks).toHaveLength(1);
  });

  it("errors the stream when a branch errors", async () => {
    const failing: OperatorFunction<Record<Shape>, string> = (s) =>
      s.pipe(
        tap(() => {
          throw new SluiceError("UNAVAILABLE", "sink down");
        }),
        map(() => ""),
      );
    await expect(
      lastValueFrom(of(B()).pipe(route(branch(isB, failing)))),
    ).rejects.toThrow("sink down");
  });

  it("refuses no branches with a CONFIG error naming the field", () => {
    expect(() => route()).toThrow(/branches must hold at least one/);
  });

  it("property: the commit point reaches the end iff every routed record is acked by its branch", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom<Shape["kind"]>("a", "b", "c"), {
          maxLength: 50,
        }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 50 }),
        async (kinds, ackFlags) => {
          const { tracker, records } = trackedRecords(
            kinds.map((kind): Shape =>
              kind === "a" ? { kind, n: 0 } : { kind },
            ),
          );
          const held: Record<Shape>[] = [];
          const hold: OperatorFunction<Record<Shape>, never> = (s) =>
            s.pipe(
              tap((r) => held.push(r)),
              map(() => undefined as never),
            );
          await lastValueFrom(
            from(records).pipe(
              route(branch(isA, hold), branch(isB, hold)),
              toArray(),
            ),
          );
          let allAcked = true;
          held.forEach((r, i) => {
            if (ackFlags[i % ackFlags.length]!) r.ack.ack();
            else allAcked = false;
          });
          expect(held).toHaveLength(kinds.filter((k) => k !== "c").length);
          const end = records.length === 0 ? undefined : records.length;
          expect(tracker.committable === end).toBe(allAcked);
        },
      ),
    );
  });
});
