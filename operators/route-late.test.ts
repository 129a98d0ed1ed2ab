import { describe as group, expect, it } from "vitest";
import { EMPTY, map, tap, throwError } from "rxjs";
import { routeLate } from "./route-late.js";
import type { Element, Late } from "./element.js";
import { late, watermark } from "./element.js";
import type { Record } from "./record.js";
import { rec, testScheduler } from "./internal/event-time-testing.js";

type Out = Element<number> | Late<number>;
const ts = () => testScheduler((a, b) => expect(a).toEqual(b));
const show = (e: Element<number>): string =>
  "kind" in e ? `w${e.time}` : `r${e.value}`;

group("routeLate", () => {
  it("completes on an empty source", () => {
    ts().run(({ cold, expectObservable }) => {
      expectObservable(
        cold<Out>("|").pipe(
          routeLate<Element<number>, number>(() => EMPTY),
          map(show),
        ),
      ).toBe("|");
    });
  });

  it("passes one non-late element through", () => {
    ts().run(({ cold, expectObservable }) => {
      expectObservable(
        cold<Out>("a|", { a: rec(1, 1) }).pipe(
          routeLate<Element<number>, number>((l) => l),
          map(show),
        ),
      ).toBe("a|", { a: "r1" });
    });
  });

  it("sends many late records to the handler and the rest on, subscribing the source once", () => {
    ts().run(({ cold, expectObservable, expectSubscriptions, flush }) => {
      const seen: number[] = [];
      const src = cold<Out>("abcd|", {
        a: rec(1, 1),
        b: late(rec(2, 0)),
        c: watermark(5),
        d: late(rec(3, 0)),
      });
      const out = src.pipe(
        routeLate<Element<number>, number>((l$) =>
          l$.pipe(tap((r: Record<number>) => seen.push(r.value))),
        ),
        map(show),
      );
      expectObservable(out).toBe("a-c-|", { a: "r1", c: "w5" });
      expectSubscriptions(src.subscriptions).toBe("^---!");
      flush();
      expect(seen).toEqual([2, 3]);
    });
  });

  it("forwards a source error", () => {
    ts().run(({ cold, expectObservable }) => {
      expectObservable(
        cold<Out>("a#", { a: rec(1, 1) }).pipe(
          routeLate<Element<number>, number>((l) => l),
          map(show),
        ),
      ).toBe("a#", { a: "r1" });
    });
  });

  it("does not complete while the source does not", () => {
    ts().run(({ cold, expectObservable }) => {
      expectObservable(
        cold<Out>("a-", { a: rec(1, 1) }).pipe(
          routeLate<Element<number>, number>((l) => l),
          map(show),
        ),
      ).toBe("a-", { a: "r1" });
    });
  });

  it("unsubscribes from the source on early unsubscribe", () => {
    ts().run(({ cold, expectObservable, expectSubscriptions }) => {
      const src = cold<Out>("a-b-c", {
        a: rec(1, 1),
        b: rec(2, 2),
        c: rec(3, 3),
      });
      expectObservable(
        src.pipe(
          routeLate<Element<number>, number>((l) => l),
          map(show),
        ),
        "^--!",
      ).toBe("a-b", { a: "r1", b: "r2" });
      expectSubscriptions(src.subscriptions).toBe("^--!");
    });
  });

  it("fails the stream when the handler throws or errors", () => {
    ts().run(({ cold, expectObservable }) => {
      const boom = new Error("boom");
      const src = cold<Out>("ab", { a: rec(1, 1), b: late(rec(2, 0)) });
      expectObservable(
        src.pipe(
          routeLate<Element<number>, number>((l$) =>
            l$.pipe(
              map(() => {
                throw boom;
              }),
            ),
          ),
          map(show),
        ),
      ).toBe("a#", { a: "r1" }, boom);
      expectObservable(
        src.pipe(
          routeLate<Element<number>, number>(() => throwError(() => boom)),
          map(show),
        ),
      ).toBe("#", undefined, boom);
    });
  });
});
