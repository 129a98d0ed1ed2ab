import { concatMap, map } from "rxjs";
import { describe, expect, it } from "vitest";
import { testScheduler } from "./internal/testing/records.js";
import { TokenBucket } from "./token-bucket.js";

describe("TokenBucket", () => {
  it("starts full and refills at its rate up to the burst", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const b = new TokenBucket({ ratePerSec: 100, burst: 2 });
      expect([b.tryTake(), b.tryTake(), b.tryTake()]).toEqual([
        true,
        true,
        false,
      ]);
      expectObservable(
        cold("10ms a 99ms b|").pipe(map(() => Math.round(b.available))),
      ).toBe("10ms a 99ms b|", { a: 1, b: 2 });
    });
  });

  it("grants acquire() calls in order, one token interval apart", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const b = new TokenBucket({ ratePerSec: 100, burst: 1 });
      const calls = cold("(abc)|").pipe(
        concatMap((x) => b.acquire().pipe(map(() => x))),
      );
      expectObservable(calls).toBe("a 9ms b 9ms (c|)");
    });
  });

  it("refunds an acquire() that is unsubscribed before its grant", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const b = new TokenBucket({ ratePerSec: 100, burst: 1 });
      b.tryTake();
      expectObservable(b.acquire(), "^-!").toBe("");
      expectObservable(
        cold("--x|").pipe(map(() => Math.round(b.available * 10) / 10)),
      ).toBe("--x|", { x: 0.2 });
    });
  });

  it("rejects a rate of zero, naming the field", () => {
    expect(() => new TokenBucket({ ratePerSec: 0 })).toThrow(
      /TokenBucket.ratePerSec/,
    );
  });
});
