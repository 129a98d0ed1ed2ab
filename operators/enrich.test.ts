import {
  defer,
  map,
  NEVER,
  of,
  tap,
  throwError,
  timer,
  type Observable,
} from "rxjs";
import { describe, expect, it } from "vitest";
import { CommitTracker } from "./commit-tracker.js";
import { enrich, type EnrichOptions } from "./enrich.js";
import { rec, testScheduler } from "./internal/testing/records.js";
import type { Outcome } from "./outcome.js";
import type { Record } from "./record.js";
import { SluiceError } from "./sluice-error.js";

const names = new Map([
  ["u1", "Ann"],
  ["u2", "Bob"],
  ["u3", "Cy"],
]);
const show = map((o: Outcome<string, string>) =>
  o.kind === "ok" ? o.record.value : `!${o.error.code}`,
);

/** A lookup that answers after `latency` ms and logs each batch of keys it was asked. */
function directory(latency = 1): {
  lookup: (keys: readonly string[]) => Observable<ReadonlyMap<string, string>>;
  batches: string[][];
} {
  const batches: string[][] = [];
  return {
    batches,
    lookup: (keys) =>
      defer(() => {
        batches.push([...keys]);
        return timer(latency).pipe(
          map(
            () =>
              new Map(
                keys.flatMap((k) =>
                  names.has(k) ? [[k, names.get(k)!] as const] : [],
                ),
              ),
          ),
        );
      }),
  };
}

function options(
  lookup: EnrichOptions<string, string, string, string>["lookup"],
  extra: Partial<EnrichOptions<string, string, string, string>> = {},
): EnrichOptions<string, string, string, string> {
  return {
    keyOf: (r) => r.value,
    lookup,
    combine: (r, name) => `${r.value}=${name ?? "?"}`,
    maxBatch: 3,
    maxWaitMs: 2,
    ...extra,
  };
}

describe("enrich", () => {
  it("completes at once on an empty source", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(
        cold<Record<string>>("|").pipe(
          enrich(options(directory().lookup)),
          show,
        ),
      ).toBe("|");
    });
  });

  it("enriches one record after the batch wait and the lookup", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(
        cold("a|", { a: rec("k1", "u1") }).pipe(
          enrich(options(directory().lookup)),
          show,
        ),
      ).toBe("---(a|)", { a: "u1=Ann" });
    });
  });

  it("sends a batch as soon as it holds maxBatch keys", () => {
    const d = directory();
    testScheduler().run(({ cold, expectObservable }) => {
      const src = cold("(abc) 9ms |", {
        a: rec("k1", "u1"),
        b: rec("k2", "u2"),
        c: rec("k3", "u3"),
      });
      // The third key fills the batch at 0, without waiting maxWaitMs; the answer comes at 1.
      expectObservable(src.pipe(enrich(options(d.lookup)), show)).toBe(
        "-(abc) 8ms |",
        { a: "u1=Ann", b: "u2=Bob", c: "u3=Cy" },
      );
    });
    expect(d.batches).toEqual([["u1", "u2", "u3"]]);
  });

  it("answers a cached key without a lookup", () => {
    const d = directory();
    testScheduler().run(({ cold, expectObservable }) => {
      const src = cold("a 9ms b|", { a: rec("k1", "u1"), b: rec("k2", "u1") });
      expectObservable(src.pipe(enrich(options(d.lookup)), show)).toBe(
        "---a 6ms b|",
        { a: "u1=Ann", b: "u1=Ann" },
      );
    });
    expect(d.batches).toEqual([["u1"]]);
  });

  it("looks a key up again after its cache TTL", () => {
    const d = directory();
    testScheduler().run(({ cold }) =>
      cold("a 9ms b|", { a: rec("k1", "u1"), b: rec("k2", "u1") })
        .pipe(enrich(options(d.lookup, { cacheTtlMs: 5 })))
        .subscribe(),
    );
    expect(d.batches).toEqual([["u1"], ["u1"]]);
  });

  it("caches misses only when negative caching is on", () => {
    const plain = directory();
    const negative = directory();
    testScheduler().run(({ cold }) => {
      const src = cold("a 9ms b|", {
        a: rec("k1", "nobody"),
        b: rec("k2", "nobody"),
      });
      const s1 = src.pipe(enrich(options(plain.lookup))).subscribe();
      const s2 = src
        .pipe(enrich(options(negative.lookup, { negativeTtlMs: 100 })))
        .subscribe();
      s1.add(s2);
      return s1;
    });
    expect([plain.batches.length, negative.batches.length]).toEqual([2, 1]);
  });

  it("keeps per-key order while another key waits on a slow lookup", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const lookup = (keys: readonly string[]) =>
        timer(keys.includes("u1") ? 10 : 1).pipe(
          map(
            () => new Map(keys.map((k) => [k, names.get(k) ?? "?"] as const)),
          ),
        );
      const src = cold("a-b|", { a: rec("k1", "u1"), b: rec("k2", "u2") });
      expectObservable(
        src.pipe(
          enrich(options(lookup, { maxBatch: 1, concurrency: 4 })),
          show,
        ),
      ).toBe("---b------(a|)", { a: "u1=Ann", b: "u2=Bob" });
    });
  });

  it("turns a failed lookup into failed outcomes at stage enrich for every record of the batch", () => {
    const stages: string[] = [];
    testScheduler().run(({ cold, expectObservable }) => {
      const lookup = () =>
        throwError(
          () =>
            new SluiceError("UNAVAILABLE", "users service down", {
              retryable: true,
            }),
        );
      const src = cold("(ab) 9ms |", {
        a: rec("k1", "u1"),
        b: rec("k2", "u2"),
      });
      const out = src.pipe(
        enrich(options(lookup)),
        tap((o) => o.kind === "failed" && stages.push(o.stage)),
      );
      expectObservable(out.pipe(show)).toBe("--(ab) 7ms |", {
        a: "!UNAVAILABLE",
        b: "!UNAVAILABLE",
      });
    });
    expect(stages).toEqual(["enrich", "enrich"]);
  });

  it("fails a lookup that passes the timeout with TIMEOUT", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(
        cold("a|", { a: rec("k1", "u1") }).pipe(
          enrich(options(() => NEVER, { timeoutMs: 7 })),
          show,
        ),
      ).toBe("7ms (a|)", { a: "!TIMEOUT" });
    });
  });

  it("turns a throwing key function or combine into a failed outcome", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const keyOf = (r: Record<string>) => {
        if (r.value === "bad") throw new Error("no key");
        return r.value;
      };
      const src = cold("ab|", { a: rec("k1", "bad"), b: rec("k2", "u2") });
      expectObservable(
        src.pipe(enrich({ ...options(directory().lookup), keyOf }), show),
      ).toBe("a---(b|)", { a: "!PROCESS", b: "u2=Bob" });
    });
  });

  it("forwards a source error and cancels the pending batch", () => {
    const d = directory();
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(
        cold("a#", { a: rec("k1", "u1") }).pipe(
          enrich(options(d.lookup)),
          show,
        ),
      ).toBe("-#");
    });
    expect(d.batches).toEqual([]);
  });

  it("keeps running on a never-ending source", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(
        cold("a-", { a: rec("k1", "u1") }).pipe(
          enrich(options(directory().lookup)),
          show,
        ),
      ).toBe("---a", { a: "u1=Ann" });
    });
  });

  it("unsubscribes from the source and the lookup in flight on early unsubscribe", () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const answer = cold<ReadonlyMap<string, string>>("----a|", { a: names });
      const src = cold("a|", { a: rec("k1", "u1") });
      expectObservable(
        src.pipe(enrich(options(() => answer)), show),
        "^---!",
      ).toBe("-");
      expectSubscriptions(answer.subscriptions).toBe("--^-!");
    });
  });

  it("keeps the parent's ack handle on enriched records", () => {
    const tracker = new CommitTracker("t", 0);
    const out: Outcome<string, string>[] = [];
    testScheduler().run(({ cold }) =>
      cold("a|", { a: rec("k1", "u1", 0, tracker.track(0)) })
        .pipe(enrich(options(() => of(names))))
        .subscribe((o) => out.push(o)),
    );
    out[0]!.record.ack.ack();
    expect(tracker.committable).toBe(1);
  });
});
