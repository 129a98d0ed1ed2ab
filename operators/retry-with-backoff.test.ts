import fc from "fast-check";
import {
  asyncScheduler,
  catchError,
  defer,
  map,
  mergeMap,
  NEVER,
  of,
  throwError,
  timer,
  type Observable,
} from "rxjs";
import { describe, expect, it } from "vitest";
import { rec, testScheduler } from "./internal/testing/records.js";
import { keyOrderedMap } from "./key-ordered-map.js";
import type { Outcome } from "./outcome.js";
import type { Record } from "./record.js";
import { retryBudget } from "./retry-budget.js";
import { retryWithBackoff } from "./retry-with-backoff.js";
import { SluiceError } from "./sluice-error.js";

const unavailable = () =>
  new SluiceError("UNAVAILABLE", "try later", { retryable: true });
const show = map((o: Outcome<number, number>) =>
  o.kind === "ok" ? `ok${o.record.value}` : `${o.error.code}@${o.attempts}`,
);

/** A step that fails with a retryable error `failures` times, then returns the value. */
function flaky(failures: number): {
  step: (r: Record<number>) => Observable<number>;
  calls: () => number;
} {
  let calls = 0;
  return {
    step: (r) =>
      defer(() => {
        calls += 1;
        return calls <= failures ? throwError(unavailable) : of(r.value);
      }),
    calls: () => calls,
  };
}

describe("retryWithBackoff", () => {
  it("completes at once on an empty source", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(
        cold<Record<number>>("|").pipe(
          keyOrderedMap(retryWithBackoff(flaky(0).step)),
          show,
        ),
      ).toBe("|");
    });
  });

  it("passes a first-time success through without delay", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(
        cold("a|", { a: rec("x", 1) }).pipe(
          keyOrderedMap(retryWithBackoff(flaky(0).step)),
          show,
        ),
      ).toBe("a|", { a: "ok1" });
    });
  });

  it("retries with exponential delays when jitter is off", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const f = flaky(2);
      const step = retryWithBackoff(f.step, {
        maxAttempts: 3,
        baseDelayMs: 10,
        jitter: "none",
      });
      // Attempt 1 at 0, attempt 2 at 10, attempt 3 at 30.
      expectObservable(
        cold("a|", { a: rec("x", 1) }).pipe(keyOrderedMap(step), show),
      ).toBe("30ms (a|)", { a: "ok1" });
    });
  });

  it("gives up after maxAttempts with the last error and its attempt count", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const step = retryWithBackoff(flaky(9).step, {
        maxAttempts: 3,
        baseDelayMs: 10,
        jitter: "none",
      });
      expectObservable(
        cold("a|", { a: rec("x", 1) }).pipe(keyOrderedMap(step), show),
      ).toBe("30ms (a|)", { a: "UNAVAILABLE@3" });
    });
  });

  it("does not retry an error that is not retryable", () => {
    let calls = 0;
    testScheduler().run(({ cold, expectObservable }) => {
      const step = retryWithBackoff(
        (_: Record<number>): Observable<number> =>
          defer(() => {
            calls += 1;
            return throwError(() => new SluiceError("VALIDATE", "bad"));
          }),
        { maxAttempts: 5 },
      );
      expectObservable(
        cold("a|", { a: rec("x", 1) }).pipe(keyOrderedMap(step), show),
      ).toBe("a|", { a: "VALIDATE@1" });
    });
    expect(calls).toBe(1);
  });

  it("treats a step that throws as a non-retryable PROCESS failure", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const step = retryWithBackoff((_: Record<number>): Observable<number> => {
        throw new Error("bug");
      });
      expectObservable(
        cold("a|", { a: rec("x", 1) }).pipe(keyOrderedMap(step), show),
      ).toBe("a|", { a: "PROCESS@1" });
    });
  });

  it("retries a timed-out attempt", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      let calls = 0;
      const step = retryWithBackoff(
        (r: Record<number>) => (++calls === 1 ? NEVER : of(r.value)),
        { attemptTimeoutMs: 5, baseDelayMs: 10, jitter: "none" },
      );
      expectObservable(
        cold("a|", { a: rec("x", 1) }).pipe(keyOrderedMap(step), show),
      ).toBe("15ms (a|)", { a: "ok1" });
    });
  });

  it("keeps a key blocked while it retries so later records of the key wait", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const step = retryWithBackoff(flaky(1).step, {
        baseDelayMs: 10,
        jitter: "none",
      });
      const src = cold("(ab)|", { a: rec("x", 1), b: rec("x", 2) });
      expectObservable(src.pipe(keyOrderedMap(step), show)).toBe("10ms (ab|)", {
        a: "ok1",
        b: "ok2",
      });
    });
  });

  it("fails with RETRY_BUDGET_EXHAUSTED once the budget is spent", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const budget = retryBudget({ ratio: 0, minRetriesPerWindow: 1 });
      const step = retryWithBackoff(flaky(99).step, {
        maxAttempts: 5,
        baseDelayMs: 1,
        jitter: "none",
        budget,
      });
      const src = cold("a---b|", { a: rec("x", 1), b: rec("y", 2) });
      // a: retried once (budget 1), then refused; b: refused at once.
      expectObservable(src.pipe(keyOrderedMap(step), show)).toBe("-a--b|", {
        a: "RETRY_BUDGET_EXHAUSTED@2",
        b: "RETRY_BUDGET_EXHAUSTED@1",
      });
    });
  });

  it("replays the same jittered delays for the same seed", () => {
    const delays = (seed: number): number[] => {
      const seen: number[] = [];
      testScheduler().run(({ cold }) => {
        let last = 0;
        const src = cold("a|", { a: rec("x", 1) });
        return src
          .pipe(
            keyOrderedMap(
              retryWithBackoff(
                () =>
                  defer(() => {
                    const t = asyncScheduler.now();
                    seen.push(t - last);
                    last = t;
                    return throwError(unavailable);
                  }),
                { seed, baseDelayMs: 100, maxAttempts: 4 },
              ),
            ),
          )
          .subscribe();
      });
      return seen;
    };
    expect(delays(7)).toEqual(delays(7));
    expect(delays(7)).not.toEqual(delays(8));
    for (const [i, d] of delays(7).slice(1).entries())
      expect(d).toBeLessThanOrEqual(100 * 2 ** i);
  });

  it("forwards a source error and cancels a pending retry", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const step = retryWithBackoff(flaky(9).step, {
        baseDelayMs: 10,
        jitter: "none",
      });
      expectObservable(
        cold("a-#", { a: rec("x", 1) }).pipe(keyOrderedMap(step), show),
      ).toBe("--#");
    });
  });

  it("keeps running on a never-ending source", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const step = retryWithBackoff(flaky(1).step, {
        baseDelayMs: 10,
        jitter: "none",
      });
      expectObservable(
        cold("a-", { a: rec("x", 1) }).pipe(keyOrderedMap(step), show),
      ).toBe("10ms a", { a: "ok1" });
    });
  });

  it("stops retrying on early unsubscribe", () => {
    const f = flaky(99);
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const src = cold("a|", { a: rec("x", 1) });
      expectObservable(
        src.pipe(
          keyOrderedMap(
            retryWithBackoff(f.step, {
              baseDelayMs: 10,
              jitter: "none",
              maxAttempts: 9,
            }),
          ),
          show,
        ),
        "^-- 20ms !",
      ).toBe("-");
      expectSubscriptions(src.subscriptions).toBe("^!");
    });
    expect(f.calls()).toBe(2);
  });

  it("never retries more than the budget allows (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 6 }), { maxLength: 60 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.integer({ min: 0, max: 5 }),
        (failuresPerCall, ratio, minRetries) => {
          let attempts = 0;
          testScheduler().run(({ cold }) => {
            const budget = retryBudget({
              ratio,
              minRetriesPerWindow: minRetries,
              windowMs: 1_000_000,
            });
            const src = cold<number>(
              failuresPerCall.map(() => "a").join("") + "|",
              { a: 0 },
            );
            let i = 0;
            return src
              .pipe(
                map(() => i++),
                mergeMap((n) => {
                  let calls = 0;
                  const step = retryWithBackoff(
                    () =>
                      defer(() => {
                        attempts += 1;
                        calls += 1;
                        return calls <= failuresPerCall[n]!
                          ? throwError(unavailable)
                          : timer(1);
                      }),
                    { maxAttempts: 10, baseDelayMs: 1, seed: n, budget },
                  );
                  return step(rec("x", n)).pipe(catchError(() => of(0)));
                }, 8),
              )
              .subscribe();
          });
          const retries = attempts - failuresPerCall.length;
          expect(retries).toBeLessThanOrEqual(
            minRetries + ratio * failuresPerCall.length,
          );
        },
      ),
      { numRuns: 200 },
    );
  });
});
