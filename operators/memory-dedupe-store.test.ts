import { lastValueFrom, map, type Observable } from "rxjs";
import { describe, expect, it } from "vitest";
import { testScheduler } from "./internal/testing/records.js";
import { memoryDedupeStore } from "./memory-dedupe-store.js";

/** Reads the one value of a synchronous store call. */
function now<V>(call: Observable<V>): V {
  let out: V | undefined;
  const sub = call.subscribe((v) => (out = v));
  sub.unsubscribe();
  return out as V;
}

describe("memoryDedupeStore", () => {
  it("claims an unknown id once and reports it as existing while claimed", () => {
    const store = memoryDedupeStore();
    expect([now(store.claim("a", 1000)), now(store.claim("a", 1000))]).toEqual([
      "claimed",
      "exists",
    ]);
  });

  it("reports a confirmed id as confirmed and keeps it through a release", () => {
    const store = memoryDedupeStore();
    now(store.claim("a", 1000));
    now(store.confirm("a", 1000));
    now(store.release("a"));
    expect(now(store.claim("a", 1000))).toBe("confirmed");
  });

  it("frees a released claim", () => {
    const store = memoryDedupeStore();
    now(store.claim("a", 1000));
    now(store.release("a"));
    expect(now(store.claim("a", 1000))).toBe("claimed");
  });

  it("lets claims and confirmations expire after their TTL", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const store = memoryDedupeStore();
      now(store.claim("a", 5));
      // At 4 ms the claim holds; at 5 ms it has expired, so a new claim wins.
      const probe = cold("----a(b|)").pipe(map(() => now(store.claim("a", 5))));
      expectObservable(probe).toBe("----a(b|)", { a: "exists", b: "claimed" });
    });
  });

  it("keeps at most maxEntries ids", () => {
    const store = memoryDedupeStore({ maxEntries: 2 });
    for (const id of ["a", "b", "c"]) now(store.claim(id, 1000));
    expect([store.stateOf("a"), store.stateOf("c")]).toEqual([
      undefined,
      "claimed",
    ]);
  });

  it("answers asynchronously-subscribed calls too", async () => {
    await expect(
      lastValueFrom(memoryDedupeStore().claim("z", 10)),
    ).resolves.toBe("claimed");
  });
});
