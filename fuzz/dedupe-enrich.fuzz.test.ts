import fc from "fast-check";
import { map, mergeMap, of, tap, timer } from "rxjs";
import { describe, expect, it } from "vitest";
import { dedupe } from "../operators/dedupe.js";
import type { Ordering } from "../operators/internal/lane-executor.js";
import { enrich } from "../operators/enrich.js";
import { memoryDedupeStore } from "../operators/memory-dedupe-store.js";
import type { Outcome } from "../operators/outcome.js";
import type { Record } from "../operators/record.js";
import { drive, yieldToVitest } from "./harness.js";
import type { Scenario } from "./scenarios.js";
import { budget, scenarios } from "./scenarios.js";

interface Input {
  readonly id: number;
  readonly uid: number;
  readonly key: string;
}

/** Per key, the ids in output order must be in arrival order. */
function expectKeyOrder(outputs: readonly Input[], what: string): void {
  const last = new Map<string, number>();
  for (const o of outputs) {
    const before = last.get(o.key) ?? -1;
    expect(o.id, `${what}: key ${o.key} out of order`).toBeGreaterThan(before);
    last.set(o.key, o.id);
  }
}

const ordering = fc.constantFrom<Ordering>("key", "partition", "unordered");

describe("fuzz: dedupe against a set of idempotency ids", () => {
  it("passes each id exactly once (its first arrival), keeps key order, and settles every input", async () => {
    await fc.assert(
      fc.asyncProperty(
        scenarios(),
        ordering,
        fc.integer({ min: 1, max: 16 }),
        fc.array(fc.nat(30), { minLength: 1, maxLength: 8 }),
        async (s: Scenario, order, concurrency, delays) => {
          await yieldToVitest();
          let n = 0;
          const written: Input[] = [];
          const passed: Input[] = [];
          const run = drive(
            s.events,
            (e) => ({ id: e.id, uid: s.uids[e.id]!, key: e.key }),
            (input, scheduler) =>
              input.pipe(
                dedupe<Input>({
                  idOf: (r) => String(r.value.uid),
                  store: memoryDedupeStore({ scheduler }),
                  ttlMs: 1_000_000,
                  claimTtlMs: 1_000_000,
                  pendingRetryMs: 5,
                  ordering: order,
                  concurrency,
                  scheduler,
                }),
                tap((r) => passed.push(r.value)),
                // a sink that takes a while, so claims are in flight while duplicates come
                mergeMap((r: Record<Input>) => {
                  const d = delays[n++ % delays.length]!;
                  return d === 0
                    ? of(r)
                    : timer(d, scheduler).pipe(map(() => r));
                }),
                tap((r) => {
                  written.push(r.value);
                  r.ack.ack();
                }),
              ),
            "end",
          );
          expect(run.error).toBeUndefined();
          const firsts = new Map<number, number>();
          for (const e of s.events)
            if (!firsts.has(s.uids[e.id]!)) firsts.set(s.uids[e.id]!, e.id);
          expect(
            written.map((w) => w.uid).sort((a, b) => a - b),
            "ids written",
          ).toEqual([...firsts.keys()].sort((a, b) => a - b));
          if (order === "key") {
            // a duplicate waits for its original's claim, so the original is what passes
            for (const w of written) expect(firsts.get(w.uid)).toBe(w.id);
            expectKeyOrder(passed, "dedupe");
          }
          for (const p of run.probes) {
            expect(p.errors, `record ${p.id}'s ack handle`).toEqual([]);
            expect(p.pending, `record ${p.id} left unsettled`).toBe(0);
          }
        },
      ),
      budget(80),
    );
  });
});

describe("fuzz: enrich against a lookup table", () => {
  it("enriches every record once with the table's value (or a miss), keeps key order, and settles every input", async () => {
    await fc.assert(
      fc.asyncProperty(
        scenarios(),
        ordering,
        fc.record({
          maxBatch: fc.integer({ min: 1, max: 20 }),
          maxWaitMs: fc.integer({ min: 1, max: 10 }),
          cacheSize: fc.constantFrom(0, 1, 10_000),
          negativeTtlMs: fc.constantFrom(undefined, 1, 1_000),
          missEvery: fc.integer({ min: 1, max: 4 }),
        }),
        fc.array(fc.nat(20), { minLength: 1, maxLength: 8 }),
        async (s: Scenario, order, o, delays) => {
          await yieldToVitest();
          const table = (key: string): string | undefined =>
            Number(key.slice(1)) % o.missEvery === 0 ? undefined : `v-${key}`;
          let calls = 0;
          const written: (Input & { found: string })[] = [];
          const run = drive(
            s.events,
            (e) => ({ id: e.id, uid: s.uids[e.id]!, key: e.key }),
            (input, scheduler) =>
              input.pipe(
                enrich<Input, string, string, Input & { found: string }>({
                  keyOf: (r) => r.value.key,
                  lookup: (keys) => {
                    const found = new Map<string, string>();
                    for (const k of keys) {
                      const v = table(k);
                      if (v !== undefined) found.set(k, v);
                    }
                    const d = delays[calls++ % delays.length]!;
                    return timer(d, scheduler).pipe(map(() => found));
                  },
                  combine: (r, found) => ({
                    ...r.value,
                    found: found ?? "miss",
                  }),
                  maxBatch: o.maxBatch,
                  maxWaitMs: o.maxWaitMs,
                  cacheSize: o.cacheSize,
                  ...(o.negativeTtlMs === undefined
                    ? {}
                    : { negativeTtlMs: o.negativeTtlMs }),
                  ordering: order,
                  scheduler,
                }),
                tap((outcome: Outcome<Input, Input & { found: string }>) => {
                  expect(outcome.kind, "enrich failed").toBe("ok");
                  written.push(
                    outcome.record.value as Input & { found: string },
                  );
                  outcome.record.ack.ack();
                }),
              ),
            "end",
          );
          expect(run.error).toBeUndefined();
          expect(
            written.map((w) => w.id).sort((a, b) => a - b),
            "records written",
          ).toEqual(s.events.map((e) => e.id));
          for (const w of written)
            expect(w.found, `record ${w.id}`).toBe(table(w.key) ?? "miss");
          if (order === "key") expectKeyOrder(written, "enrich");
          for (const p of run.probes) {
            expect(p.errors, `record ${p.id}'s ack handle`).toEqual([]);
            expect(p.pending, `record ${p.id} left unsettled`).toBe(0);
          }
        },
      ),
      budget(80),
    );
  });
});
