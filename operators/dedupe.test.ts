import fc from "fast-check";
import {
  concatMap,
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
import { dedupe, type DedupeStore } from "./dedupe.js";
import { rec, testScheduler } from "./internal/testing/records.js";
import { keyOrderedMap } from "./key-ordered-map.js";
import { memoryDedupeStore } from "./memory-dedupe-store.js";
import type { Record } from "./record.js";
import { SluiceError } from "./sluice-error.js";

const idOf = (r: Record<string>) => r.value;
const values = map((r: Record<string>) => r.value);
/** Acks every record as a sink would once its effect is done. */
const ackAll = tap((r: Record<string>) => r.ack.ack());

describe("dedupe", () => {
  it("completes at once on an empty source", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(
        cold<Record<string>>("|").pipe(
          dedupe({ idOf, store: memoryDedupeStore(), ttlMs: 1000 }),
        ),
      ).toBe("|");
    });
  });

  it("passes one new record through", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const src = cold("a|", { a: rec("k", "id1") });
      expectObservable(
        src.pipe(
          dedupe({ idOf, store: memoryDedupeStore(), ttlMs: 1000 }),
          values,
        ),
      ).toBe("a|", { a: "id1" });
    });
  });

  it("drops a duplicate of a confirmed id, acks it and counts it", () => {
    const tracker = new CommitTracker("t", 0);
    const store = memoryDedupeStore();
    const d = dedupe({ idOf, store, ttlMs: 1000, nearCacheSize: 0 });
    testScheduler().run(({ cold, expectObservable }) => {
      const src = cold("abc|", {
        a: rec("k", "id1", 0, tracker.track(0)),
        b: rec("k", "id1", 1, tracker.track(1)),
        c: rec("k", "id2", 2, tracker.track(2)),
      });
      expectObservable(src.pipe(d, ackAll, values)).toBe("a-c|", {
        a: "id1",
        c: "id2",
      });
    });
    expect(d.counters.hits).toBe(1);
    expect(tracker.committable).toBe(3);
    expect([d.counters.claimed, d.counters.confirmed]).toEqual([2, 2]);
  });

  it("answers a repeated id from the near cache without asking the store", () => {
    const store = memoryDedupeStore();
    const d = dedupe({ idOf, store, ttlMs: 1000 });
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(
        cold("ab|", { a: rec("k", "id1"), b: rec("k", "id1") }).pipe(
          d,
          ackAll,
          values,
        ),
      ).toBe("a-|", { a: "id1" });
    });
    expect([d.counters.nearHits, store.calls.claim]).toEqual([1, 1]);
  });

  it("forgets a confirmed id after its TTL", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const store = memoryDedupeStore();
      const src = cold("a 9ms b|", { a: rec("k", "id1"), b: rec("k", "id1") });
      expectObservable(
        src.pipe(dedupe({ idOf, store, ttlMs: 5 }), ackAll, values),
      ).toBe("a 9ms b|", { a: "id1", b: "id1" });
    });
  });

  it("confirms only after downstream acks, and releases on a nack so a redelivery runs again", () => {
    const store = memoryDedupeStore();
    const d = dedupe({ idOf, store, ttlMs: 1000 });
    const out: Record<string>[] = [];
    const sub = of(rec("k", "id1"))
      .pipe(d)
      .subscribe((r) => out.push(r));
    expect(store.stateOf("id1")).toBe("claimed");
    out[0]!.ack.nack(
      new SluiceError("UNAVAILABLE", "smtp down", { retryable: true }),
    );
    expect(store.stateOf("id1")).toBeUndefined();
    const again = of(rec("k", "id1"))
      .pipe(d)
      .subscribe((r) => out.push(r));
    expect(out).toHaveLength(2);
    out[1]!.ack.ack();
    expect(store.stateOf("id1")).toBe("confirmed");
    expect([d.counters.released, d.counters.confirmed]).toEqual([1, 1]);
    sub.unsubscribe();
    again.unsubscribe();
  });

  it("counts every descendant before confirming", () => {
    const store = memoryDedupeStore();
    const out: Record<string>[] = [];
    const sub = of(rec("k", "id1"))
      .pipe(dedupe({ idOf, store, ttlMs: 1000 }))
      .subscribe((r) => out.push(r));
    const r = out[0]!;
    r.ack.retain(1); // fanned out to two records
    r.ack.ack();
    expect(store.stateOf("id1")).toBe("claimed");
    r.ack.ack();
    expect(store.stateOf("id1")).toBe("confirmed");
    sub.unsubscribe();
  });

  it("makes a duplicate wait while the first claim is in flight, then drops it once confirmed", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const store = memoryDedupeStore();
      const d = dedupe({ idOf, store, ttlMs: 1000, pendingRetryMs: 2 });
      // The effect of id1 takes 5 ms before the sink acks it; the duplicate (another key) polls.
      const src = cold("ab|", { a: rec("k1", "id1"), b: rec("k2", "id1") });
      const result = src.pipe(
        d,
        concatMap((r) => timer(5).pipe(map(() => r))),
        tap((r) => r.ack.ack()),
        values,
      );
      expectObservable(result).toBe("-----(a|)", { a: "id1" });
    });
  });

  it("nacks a duplicate that stays pending past pendingWaitMs with a retryable CONFLICT", () => {
    const tracker = new CommitTracker("t", 0);
    const nacks: string[] = [];
    tracker.onNack((_, e) => nacks.push(`${e.code}:${e.retryable}`));
    testScheduler().run(({ cold, expectObservable }) => {
      const store = memoryDedupeStore();
      const d = dedupe({
        idOf,
        store,
        ttlMs: 1000,
        pendingRetryMs: 2,
        pendingWaitMs: 6,
      });
      const src = cold("ab|", {
        a: rec("k1", "id1"),
        b: rec("k2", "id1", 0, tracker.track(0)),
      });
      expectObservable(src.pipe(d, values)).toBe("a------|", { a: "id1" });
    });
    expect(nacks).toEqual(["CONFLICT:true"]);
  });

  it("nacks a record when the store fails, and the stream goes on", () => {
    const tracker = new CommitTracker("t", 0);
    const nacked: number[] = [];
    tracker.onNack((offset) => nacked.push(offset));
    const broken: DedupeStore = {
      ...memoryDedupeStore(),
      claim: () =>
        throwError(
          () =>
            new SluiceError("UNAVAILABLE", "memcached down", {
              retryable: true,
            }),
        ),
    };
    const d = dedupe({ idOf, store: broken, ttlMs: 1000 });
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(
        cold("a|", { a: rec("k", "id1", 0, tracker.track(0)) }).pipe(d),
      ).toBe("-|");
    });
    expect([nacked, d.counters.errors]).toEqual([[0], 1]);
  });

  it("nacks a record when a store call times out", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const slowStore: DedupeStore = {
        ...memoryDedupeStore(),
        claim: () => NEVER,
      };
      expectObservable(
        cold("a|", { a: rec("k", "id1") }).pipe(
          dedupe({ idOf, store: slowStore, ttlMs: 1000, timeoutMs: 3 }),
        ),
      ).toBe("---|");
    });
  });

  it("nacks a record whose id function throws, and the stream goes on", () => {
    const tracker = new CommitTracker("t", 0);
    const nacked: number[] = [];
    tracker.onNack((offset) => nacked.push(offset));
    const throwing = (r: Record<string>) => {
      if (r.value === "bad") throw new Error("no id");
      return r.value;
    };
    testScheduler().run(({ cold, expectObservable }) => {
      const src = cold("ab|", {
        a: rec("k", "bad", 0, tracker.track(0)),
        b: rec("k", "id2", 1, tracker.track(1)),
      });
      expectObservable(
        src.pipe(
          dedupe({ idOf: throwing, store: memoryDedupeStore(), ttlMs: 1000 }),
          values,
        ),
      ).toBe("-b|", { b: "id2" });
    });
    expect(nacked).toEqual([0]);
  });

  it("still acks the record when the confirm fails after the effect succeeded", () => {
    const tracker = new CommitTracker("t", 0);
    const store: DedupeStore = {
      ...memoryDedupeStore(),
      confirm: () => throwError(() => new SluiceError("UNAVAILABLE", "down")),
    };
    const d = dedupe({ idOf, store, ttlMs: 1000 });
    const sub = of(rec("k", "id1", 0, tracker.track(0)))
      .pipe(d, ackAll)
      .subscribe();
    expect([tracker.committable, d.counters.settleErrors]).toEqual([1, 1]);
    sub.unsubscribe();
  });

  it("forwards a source error", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(
        cold("a#", { a: rec("k", "id1") }).pipe(
          dedupe({ idOf, store: memoryDedupeStore(), ttlMs: 1000 }),
          values,
        ),
      ).toBe("a#", { a: "id1" });
    });
  });

  it("keeps running on a never-ending source", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(
        cold("a-", { a: rec("k", "id1") }).pipe(
          dedupe({ idOf, store: memoryDedupeStore(), ttlMs: 1000 }),
          values,
        ),
      ).toBe("a-", { a: "id1" });
    });
  });

  it("unsubscribes from the source and pending claims on early unsubscribe", () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const src = cold("a-b-|", { a: rec("k", "id1"), b: rec("k", "id2") });
      const claim = cold<"claimed">("---(c|)", { c: "claimed" });
      const store: DedupeStore = { ...memoryDedupeStore(), claim: () => claim };
      expectObservable(
        src.pipe(dedupe({ idOf, store, ttlMs: 1000 }), values),
        "^-!",
      ).toBe("--");
      expectSubscriptions(src.subscriptions).toBe("^-!");
      expectSubscriptions(claim.subscriptions).toBe("^-!");
    });
  });

  it("never confirms a failed effect and runs each id's effect until one succeeds (property)", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            id: fc.constantFrom("a", "b", "c", "d"),
            ok: fc.boolean(),
          }),
          { maxLength: 30 },
        ),
        (events) => {
          const store = memoryDedupeStore();
          const confirmedAfter: { id: string; succeeded: boolean }[] = [];
          const spy: DedupeStore = {
            claim: (id, ttl) => store.claim(id, ttl),
            release: (id) => store.release(id),
            confirm: (id, ttl) => {
              confirmedAfter.push({ id, succeeded: succeeded.has(id) });
              return store.confirm(id, ttl);
            },
          };
          const succeeded = new Set<string>();
          const ran: string[] = [];
          testScheduler().run(({ cold }) => {
            const src = cold<Record<string>>(
              events.map((_, i) => String.fromCharCode(0x100 + i)).join("--") +
                "--|",
              Object.fromEntries(
                events.map((e, i) => [
                  String.fromCharCode(0x100 + i),
                  rec("k", e.id, i),
                ]),
              ),
            );
            const effect = (r: Record<string>): Observable<string> => {
              const e = events[r.origin!.offset]!;
              ran.push(e.id);
              return timer(1).pipe(
                concatMap(() =>
                  e.ok
                    ? of(e.id)
                    : throwError(
                        () =>
                          new SluiceError("UNAVAILABLE", "effect failed", {
                            retryable: true,
                          }),
                      ),
                ),
              );
            };
            return src
              .pipe(
                dedupe({ idOf, store: spy, ttlMs: 10_000 }),
                keyOrderedMap(effect),
                tap((o) => {
                  if (o.kind === "ok") {
                    succeeded.add(o.record.value);
                    o.record.ack.ack();
                  } else o.record.ack.nack(o.error);
                }),
              )
              .subscribe();
          });
          // Model: an id's effect runs until it first succeeds; later records of it are dropped.
          const done = new Set<string>();
          const expected: string[] = [];
          for (const e of events) {
            if (done.has(e.id)) continue;
            expected.push(e.id);
            if (e.ok) done.add(e.id);
          }
          expect(ran).toEqual(expected);
          expect(confirmedAfter.every((c) => c.succeeded)).toBe(true);
          expect(new Set(confirmedAfter.map((c) => c.id))).toEqual(done);
        },
      ),
      { numRuns: 200 },
    );
  });
});
