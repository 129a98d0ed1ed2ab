import { describe, expect, it } from "vitest";
import { testScheduler } from "./internal/testing/records.js";
import { retryBudget } from "./retry-budget.js";

describe("retryBudget", () => {
  it("allows the minimum retries with no traffic", () => {
    const b = retryBudget({ ratio: 0.5, minRetriesPerWindow: 2 });
    expect([b.tryRetry(), b.tryRetry(), b.tryRetry()]).toEqual([
      true,
      true,
      false,
    ]);
  });

  it("earns a fraction of a retry per call", () => {
    const b = retryBudget({ ratio: 0.25, minRetriesPerWindow: 0 });
    for (let i = 0; i < 8; i++) b.recordCall();
    expect(b.available).toBe(2);
    expect([b.tryRetry(), b.tryRetry(), b.tryRetry()]).toEqual([
      true,
      true,
      false,
    ]);
  });

  it("refuses again until the window slides past the spent retry", () => {
    const tries: boolean[] = [];
    testScheduler().run(({ cold }) => {
      const b = retryBudget({
        ratio: 0,
        minRetriesPerWindow: 1,
        windowMs: 10,
        slots: 10,
      });
      return cold("a 4ms b 4ms c|").subscribe(() => tries.push(b.tryRetry()));
    });
    // At 0 the one retry is spent; at 5 it is still in the window; at 10 it has left it.
    expect(tries).toEqual([true, false, true]);
  });

  it("rejects a ratio above one, naming the field", () => {
    expect(() => retryBudget({ ratio: 2 })).toThrow(/retryBudget.ratio/);
  });
});
