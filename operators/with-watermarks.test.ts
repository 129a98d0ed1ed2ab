import { describe as group, expect, it } from "vitest";
import { asyncScheduler, defer, map, from, startWith, Subject } from "rxjs";
import type { Observable } from "rxjs";
import fc from "fast-check";
import { withWatermarks } from "./with-watermarks.js";
import type { Element } from "./element.js";
import { isWatermark } from "./element.js";
import type { Record } from "./record.js";
import { record } from "./record.js";
import { linkedOrigins } from "./partition-owner.js";
import type {
  OwnedPartition,
  OwnershipEvent,
  PartitionOwner,
} from "./partition-owner.js";
import { rec, testScheduler } from "./internal/event-time-testing.js";

const show = (e: Element<number>): string =>
  isWatermark(e) ? `w${e.time}` : `r${e.value}`;
const ts = () => testScheduler((a, b) => expect(a).toEqual(b));

group("withWatermarks", () => {
  it("completes an empty source with a final watermark", () => {
    ts().run(({ cold, expectObservable }) => {
      const out = cold<Record<number>>("|").pipe(
        withWatermarks<number>({ maxOutOfOrdernessMs: 0 }),
        map(show),
      );
      expectObservable(out).toBe("(w|)", { w: "wInfinity" });
    });
  });

  it("passes one record through and follows it with its watermark", () => {
    ts().run(({ cold, expectObservable }) => {
      const out = cold("a 9ms |", { a: rec(1, 100) }).pipe(
        withWatermarks({ maxOutOfOrdernessMs: 10 }),
        map(show),
      );
      expectObservable(out).toBe("(ab) 6ms (c|)", {
        a: "r1",
        b: "w89",
        c: "wInfinity",
      });
    });
  });

  it("advances only when the highest timestamp advances, never backwards", () => {
    ts().run(({ cold, expectObservable }) => {
      const out = cold("a 9ms b 9ms c", {
        a: rec(1, 100),
        b: rec(2, 90),
        c: rec(3, 120),
      }).pipe(
        withWatermarks({ maxOutOfOrdernessMs: 0, onComplete: "none" }),
        map(show),
      );
      expectObservable(out).toBe("(ab) 6ms c 9ms (de)", {
        a: "r1",
        b: "w99",
        c: "r2",
        d: "r3",
        e: "w119",
      });
    });
  });

  it("takes the minimum over partitions", () => {
    ts().run(({ cold, expectObservable }) => {
      const out = cold("a 9ms b 9ms c", {
        a: rec(1, 100, "k", 0),
        b: rec(2, 200, "k", 1),
        c: rec(3, 150, "k", 0),
      }).pipe(withWatermarks({ maxOutOfOrdernessMs: 0 }), map(show));
      expectObservable(out).toBe("(ab) 6ms c 9ms (de)", {
        a: "r1",
        b: "w99",
        c: "r2",
        d: "r3",
        e: "w149",
      });
    });
  });

  it("excludes an idle partition from the minimum after the idle timeout", () => {
    ts().run(({ cold, expectObservable, time }) => {
      const t = time("---------------|");
      const src = cold("a 9ms b 19ms c", {
        a: rec(1, 100, "k", 0),
        b: rec(2, 200, "k", 1),
        c: rec(3, 210, "k", 1),
      });
      const out = src.pipe(
        withWatermarks({
          maxOutOfOrdernessMs: 0,
          idleTimeoutMs: t,
          onComplete: "none",
        }),
        map(show),
      );
      expectObservable(out).toBe("(ab) 6ms c 4ms d 14ms (ef)", {
        a: "r1",
        b: "w99",
        c: "r2",
        d: "w199",
        e: "r3",
        f: "w209",
      });
    });
  });

  it("holds the watermark when every partition is idle under the hold policy", () => {
    ts().run(({ cold, expectObservable }) => {
      const out = cold("a 20ms b", { a: rec(1, 100), b: rec(2, 101) }).pipe(
        withWatermarks({
          maxOutOfOrdernessMs: 0,
          idleTimeoutMs: 5,
          allIdle: "hold",
          onComplete: "none",
        }),
        map(show),
      );
      expectObservable(out).toBe("(ab) 17ms (cd)", {
        a: "r1",
        b: "w99",
        c: "r2",
        d: "w100",
      });
    });
  });

  it("advances with the wall clock when every partition is idle under the advance policy", () => {
    ts().run(({ cold, expectObservable }) => {
      const out = cold("a 20ms b", { a: rec(1, 0), b: rec(2, 22) }).pipe(
        withWatermarks({
          maxOutOfOrdernessMs: 2,
          idleTimeoutMs: 5,
          wallClockIntervalMs: 5,
          allIdle: "advance-with-wall-clock",
          onComplete: "none",
        }),
        map(show),
      );
      // idle at 5 → 5-2-1 = 2, then 7 at 10, 12 at 15, 17 at 20; the record at 21 stops the clock; idle again at 26.
      expectObservable(out, "^ 28ms !").toBe(
        "(ah) 1ms b 4ms c 4ms d 4ms e (fg) 1ms i",
        {
          i: "w23",
          h: "w-3",
          a: "r1",
          b: "w2",
          c: "w7",
          d: "w12",
          e: "w17",
          f: "r2",
          g: "w19",
        },
      );
    });
  });

  it("keeps a silent partition with a backlog active, and the wall clock still, until its source is caught up", () => {
    const asked: number[] = [];
    ts().run(({ cold, expectObservable }) => {
      const out = cold("a 30ms b", {
        a: rec(1, 0, "k", 0),
        b: rec(2, 3, "k", 0),
      }).pipe(
        withWatermarks({
          maxOutOfOrdernessMs: 2,
          idleTimeoutMs: 5,
          wallClockIntervalMs: 5,
          allIdle: "advance-with-wall-clock",
          onComplete: "none",
          // The source has unread records until 20 ms (a stall while reading a backlog).
          isCaughtUp: (tp) => {
            expect(tp).toEqual({ topic: "t", partition: 0 });
            asked.push(asyncScheduler.now());
            return asyncScheduler.now() >= 20;
          },
        }),
        map(show),
      );
      // Silent from 5 ms on, but not idle while the backlog lasts; idle at 20 once caught
      // up: the wall clock moves the watermark to 20-2-1 = 17, then 22 and 27.
      expectObservable(out, "^ 33ms !").toBe("(ah) 16ms c 4ms d 4ms ef", {
        a: "r1",
        h: "w-3",
        c: "w17",
        d: "w22",
        e: "w27",
        f: "r2",
      });
    });
    // Asked at each idle deadline until caught up, then before each wall-clock advance.
    expect(asked).toEqual([5, 10, 15, 20, 20, 25, 30]);
  });

  it("treats a partition whose source does not know its lag as caught up", () => {
    ts().run(({ cold, expectObservable }) => {
      const out = cold("a", { a: rec(1, 0, "k", 0) }).pipe(
        withWatermarks({
          maxOutOfOrdernessMs: 2,
          idleTimeoutMs: 5,
          allIdle: "advance-with-wall-clock",
          isCaughtUp: () => undefined,
        }),
        map(show),
      );
      expectObservable(out, "^ 6ms !").toBe("(ah) 1ms c", {
        a: "r1",
        h: "w-3",
        c: "w2",
      });
    });
  });

  it("emits periodically when an emit interval is set", () => {
    ts().run(({ cold, expectObservable }) => {
      const out = cold("ab-c----", {
        a: rec(1, 10),
        b: rec(2, 20),
        c: rec(3, 30),
      }).pipe(
        withWatermarks({
          maxOutOfOrdernessMs: 0,
          emitIntervalMs: 5,
          onComplete: "none",
        }),
        map(show),
      );
      expectObservable(out, "^ 12ms !").toBe("ab-c-d", {
        a: "r1",
        b: "r2",
        c: "r3",
        d: "w29",
      });
    });
  });

  it("forwards an error", () => {
    ts().run(({ cold, expectObservable }) => {
      const out = cold("a 9ms #", { a: rec(1, 10) }).pipe(
        withWatermarks({ maxOutOfOrdernessMs: 0 }),
        map(show),
      );
      expectObservable(out).toBe("(ab) 6ms #", { a: "r1", b: "w9" });
    });
  });

  it("does not complete while the source does not", () => {
    ts().run(({ cold, expectObservable }) => {
      const out = cold("a-", { a: rec(1, 10) }).pipe(
        withWatermarks({ maxOutOfOrdernessMs: 0 }),
        map(show),
      );
      expectObservable(out).toBe("(ab)-", { a: "r1", b: "w9" });
    });
  });

  it("stops its timers on early unsubscribe", () => {
    ts().run(({ cold, expectObservable, expectSubscriptions }) => {
      const src = cold("a 9ms b 9ms c", {
        a: rec(1, 10),
        b: rec(2, 20),
        c: rec(3, 30),
      });
      const out = src.pipe(
        withWatermarks({
          maxOutOfOrdernessMs: 0,
          idleTimeoutMs: 1,
          allIdle: "advance-with-wall-clock",
        }),
        map(show),
      );
      expectObservable(out, "^ 15ms !").toBe("(ab) 6ms (cd)", {
        a: "r1",
        b: "w9",
        c: "r2",
        d: "w19",
      });
      expectSubscriptions(src.subscriptions).toBe("^ 15ms !");
    });
  });

  it("errors when the timestamp callback throws", () => {
    ts().run(({ cold, expectObservable }) => {
      const out = cold("a", { a: rec(1, 10) }).pipe(
        withWatermarks<number>({
          maxOutOfOrdernessMs: 0,
          timestampOf: () => {
            throw new Error("boom");
          },
        }),
        map(show),
      );
      expectObservable(out).toBe("#", undefined, new Error("boom"));
    });
  });

  it("rejects a missing idle timeout with the wall-clock policy, naming the field", () => {
    expect(() =>
      withWatermarks({
        maxOutOfOrdernessMs: 0,
        allIdle: "advance-with-wall-clock",
      }),
    ).toThrow(/idleTimeoutMs/);
  });

  it("is monotonic and never passes the lowest partition maximum minus the bound while partitions are active", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.integer({ min: 0, max: 3 }),
            fc.integer({ min: 0, max: 1000 }),
          ),
          { maxLength: 60 },
        ),
        fc.integer({ min: 0, max: 50 }),
        (items, bound) => {
          const max = new Map<number, number>();
          let last = -Infinity;
          let ok = true;
          const input = new Subject<Record<number>>();
          const _s2 = input
            .pipe(
              withWatermarks<number>({
                maxOutOfOrdernessMs: bound,
                onComplete: "none",
              }),
            )
            .subscribe((e) => {
              if (!isWatermark(e)) return;
              if (e.time <= last) ok = false;
              last = e.time;
              const lowest = Math.min(...max.values());
              if (e.time > lowest - bound - 1) ok = false;
            });
          for (const [p, t] of items) {
            max.set(p, Math.max(max.get(p) ?? -Infinity, t));
            input.next(rec(t, t, "k", p));
          }
          return ok;
        },
      ),
    );
  });

  it("passes records through in order, untouched", () => {
    const records = [rec(1, 5), rec(2, 3)];
    const seen: Element<number>[] = [];
    const _s1 = from(records)
      .pipe(withWatermarks<number>({ maxOutOfOrdernessMs: 0 }))
      .subscribe((e) => seen.push(e));
    expect(seen.filter((e) => !isWatermark(e))).toEqual(records);
    expect(seen.filter((e) => !isWatermark(e))[0]).toBe(records[0]);
  });
});

/** A source's side of the assignment link, driven by hand. */
class FakeOwner implements PartitionOwner {
  readonly owned = new Set<number>();
  readonly events = new Subject<OwnershipEvent>();
  /** Partitions with a backlog, for isCaughtUp. */
  readonly behind = new Set<number>();
  readonly asked: number[] = [];
  private readonly originOf = linkedOrigins(this);

  constructor(...owned: number[]) {
    for (const p of owned) this.owned.add(p);
  }

  assignments(): Observable<OwnershipEvent> {
    return defer(() =>
      this.events.pipe(
        startWith<OwnershipEvent>({
          type: "assigned",
          partitions: [...this.owned].map((partition) => tp(partition)),
        }),
      ),
    );
  }

  isCaughtUp(partition: OwnedPartition): boolean | undefined {
    this.asked.push(partition.partition);
    return !this.behind.has(partition.partition);
  }

  assign(...partitions: number[]): void {
    for (const p of partitions) this.owned.add(p);
    this.events.next({ type: "assigned", partitions: partitions.map(tp) });
  }

  revoke(...partitions: number[]): void {
    for (const p of partitions) this.owned.delete(p);
    this.events.next({ type: "revoked", partitions: partitions.map(tp) });
  }

  rec(value: number, timestamp: number, partition: number): Record<number> {
    return record({
      key: "k",
      value,
      timestamp,
      origin: this.originOf("t", partition, 0),
    });
  }
}

const tp = (partition: number): OwnedPartition => ({ topic: "t", partition });

/** Runs `withWatermarks` over a subject; returns the input and what came out, shown. */
function harness(options: Parameters<typeof withWatermarks<number>>[0]): {
  input: Subject<Record<number>>;
  out: string[];
  stop: () => void;
} {
  const input = new Subject<Record<number>>();
  const out: string[] = [];
  const subscription = input
    .pipe(withWatermarks<number>(options), map(show))
    .subscribe((e) => out.push(e));
  return { input, out, stop: () => subscription.unsubscribe() };
}

group("withWatermarks following its source's assignment", () => {
  it("holds the watermark until every assigned partition has sent, as a Flink split starting at Long.MIN_VALUE", () => {
    const owner = new FakeOwner(0, 1);
    const { input, out } = harness({ maxOutOfOrdernessMs: 0 });
    input.next(owner.rec(1, 100, 0));
    input.next(owner.rec(2, 200, 0));
    expect(out).toEqual(["r1", "r2"]);
    input.next(owner.rec(3, 50, 1));
    input.complete();
    expect(out).toEqual(["r1", "r2", "r3", "w49", "wInfinity"]);
  });

  it("stops counting a revoked partition at once, and its stray records move nothing", () => {
    const owner = new FakeOwner(0, 1);
    const { input, out } = harness({ maxOutOfOrdernessMs: 0 });
    input.next(owner.rec(1, 100, 0));
    owner.revoke(1);
    expect(out).toEqual(["r1", "w99"]);
    input.next(owner.rec(2, 10, 1));
    input.next(owner.rec(3, 300, 0));
    expect(out).toEqual(["r1", "w99", "r2", "r3", "w299"]);
  });

  it("holds the watermark where it is for a partition assigned again, until its first record", () => {
    const owner = new FakeOwner(0, 1);
    const { input, out } = harness({ maxOutOfOrdernessMs: 0 });
    input.next(owner.rec(1, 100, 1));
    input.next(owner.rec(2, 100, 0));
    owner.revoke(1);
    owner.assign(1);
    input.next(owner.rec(3, 400, 0));
    input.next(owner.rec(4, 350, 1));
    expect(out).toEqual(["r1", "r2", "w99", "r3", "r4", "w349"]);
  });

  it("counts a partition that was never announced from its first record, as without a source", () => {
    const owner = new FakeOwner(0);
    const { input, out } = harness({ maxOutOfOrdernessMs: 0 });
    input.next(owner.rec(1, 100, 0));
    input.next(owner.rec(2, 50, 5));
    expect(out).toEqual(["r1", "w99", "r2"]);
    input.next(owner.rec(3, 80, 5));
    expect(out).toEqual(["r1", "w99", "r2", "r3"]);
  });

  it("calls an assigned partition that never sends idle after idleTimeoutMs from its assignment, but not while its source has a backlog of it", () => {
    const owner = new FakeOwner(0, 1);
    owner.behind.add(1);
    ts().run(({ cold, expectObservable }) => {
      const _sub1 = cold("10ms x").subscribe(() => owner.behind.delete(1));
      const out = cold("a 2ms b 2ms c 2ms d", {
        a: owner.rec(1, 100, 0),
        b: owner.rec(2, 101, 0),
        c: owner.rec(3, 102, 0),
        d: owner.rec(4, 103, 0),
      }).pipe(
        withWatermarks({
          maxOutOfOrdernessMs: 0,
          idleTimeoutMs: 4,
          onComplete: "none",
        }),
        map(show),
      );
      // p1 is asked at 4 and 8 (behind); at 12 it is caught up and idle: the minimum is
      // p0's, which keeps sending every 3 ms.
      expectObservable(out, "^ 20ms !").toBe("a 2ms b 2ms c 2ms d 2ms w", {
        a: "r1",
        b: "r2",
        c: "r3",
        d: "r4",
        w: "w102",
      });
    });
    expect(owner.asked).toEqual([1, 1, 1, 0]);
  });

  it("does not advance with the wall clock while an assigned partition that has sent nothing has a backlog", () => {
    const owner = new FakeOwner(0, 1);
    owner.behind.add(1);
    ts().run(({ cold, expectObservable }) => {
      const _sub2 = cold("20ms x").subscribe(() => owner.behind.delete(1));
      const out = cold("a", { a: owner.rec(1, 0, 0) }).pipe(
        withWatermarks({
          maxOutOfOrdernessMs: 2,
          idleTimeoutMs: 5,
          wallClockIntervalMs: 5,
          allIdle: "advance-with-wall-clock",
          onComplete: "none",
        }),
        map(show),
      );
      // p1 holds everything until its backlog is gone at 20; then p0 (idle since 5) and p1
      // are idle together and the wall clock moves it: 20-2-1 = 17, then 22.
      expectObservable(out, "^ 27ms !").toBe("a 19ms b 4ms c", {
        a: "r1",
        b: "w17",
        c: "w22",
      });
    });
  });

  it("keeps a partition handed from one source to another counting for the new owner, whatever order their events come in", () => {
    const a = new FakeOwner(0, 1);
    const b = new FakeOwner();
    const { input, out } = harness({ maxOutOfOrdernessMs: 0 });
    input.next(a.rec(1, 100, 0));
    input.next(b.rec(2, 100, 9)); // b is followed from here on
    input.next(a.rec(3, 100, 1));
    expect(out).toEqual(["r1", "r2", "r3", "w99"]);
    b.assign(1); // before a gives it up: p1 holds the watermark for b
    a.revoke(1); // a's late revocation does not take it from b
    input.next(a.rec(4, 300, 0));
    input.next(b.rec(5, 300, 9));
    expect(out).toEqual(["r1", "r2", "r3", "w99", "r4", "r5"]);
    input.next(b.rec(6, 200, 1));
    expect(out).toEqual(["r1", "r2", "r3", "w99", "r4", "r5", "r6", "w199"]);
  });

  it("stops following the source's assignments when unsubscribed", () => {
    const owner = new FakeOwner(0);
    const { input, stop } = harness({ maxOutOfOrdernessMs: 0 });
    input.next(owner.rec(1, 100, 0));
    expect(owner.events.observed).toBe(true);
    stop();
    expect(owner.events.observed).toBe(false);
  });

  it("equals a brute-force watermark over any history of assignments, revocations and records", () => {
    type Op =
      | { readonly op: "assign" | "revoke"; readonly p: number }
      | { readonly op: "record"; readonly p: number; readonly t: number };
    fc.assert(
      fc.property(
        fc.subarray([0, 1, 2, 3]),
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: 0, max: 1000 }),
        fc.array(
          fc.oneof(
            fc.record({
              op: fc.constantFrom("assign" as const, "revoke" as const),
              p: fc.integer({ min: 0, max: 3 }),
            }),
            fc.record({
              op: fc.constant("record" as const),
              p: fc.integer({ min: 0, max: 3 }),
              t: fc.integer({ min: 0, max: 1000 }),
            }),
          ),
          { maxLength: 40 },
        ),
        fc.integer({ min: 0, max: 20 }),
        (initial, firstP, firstT, drawn, bound) => {
          // As a source behaves: it assigns what it does not own, revokes what it owns.
          // A partition that sends before it was ever announced counts as owned from then on.
          const owns = new Set(initial);
          const announced = new Set(initial);
          const history: Op[] = [];
          const first: Op = { op: "record", p: firstP, t: firstT };
          for (const o of [first, ...drawn]) {
            if (o.op === "record" && !announced.has(o.p)) {
              owns.add(o.p);
              announced.add(o.p);
            }
            if (o.op === "assign" && owns.has(o.p)) continue;
            if (o.op === "revoke" && !owns.has(o.p)) continue;
            if (o.op === "assign") owns.add(o.p);
            if (o.op !== "record") announced.add(o.p);
            if (o.op === "revoke") owns.delete(o.p);
            history.push(o);
          }
          // Brute force from the whole history at each step: the partitions counted are the
          // owned ones (with their records since the last assignment) and those never
          // announced that have sent; the watermark is the running maximum of the minimum.
          const expected: number[] = [];
          let best = -Infinity;
          for (let k = 0; k < history.length; k++) {
            const seen = history.slice(0, k + 1);
            let min = Infinity;
            for (let p = 0; p < 4; p++) {
              let last = initial.includes(p) ? -1 : undefined;
              let lastType = initial.includes(p) ? "assign" : undefined;
              seen.forEach((o, i) => {
                if (o.p === p && o.op !== "record") {
                  last = i;
                  lastType = o.op;
                }
              });
              if (lastType === "revoke") continue;
              const ts = seen
                .filter(
                  (o, i) => o.p === p && o.op === "record" && i > (last ?? -2),
                )
                .map((o) => (o as { t: number }).t);
              if (lastType === undefined && ts.length === 0) continue;
              min = Math.min(
                min,
                ts.length === 0 ? -Infinity : Math.max(...ts),
              );
            }
            if (min !== Infinity && min - bound - 1 > best) {
              best = min - bound - 1;
              expected.push(best);
            }
          }
          const owner = new FakeOwner(...initial);
          const got: number[] = [];
          const input = new Subject<Record<number>>();
          const subscription = input
            .pipe(
              withWatermarks<number>({
                maxOutOfOrdernessMs: bound,
                onComplete: "none",
              }),
            )
            .subscribe((e) => {
              if (isWatermark(e)) got.push(e.time);
            });
          for (const o of history) {
            if (o.op === "record") input.next(owner.rec(o.t, o.t, o.p));
            else if (o.op === "assign") owner.assign(o.p);
            else owner.revoke(o.p);
          }
          subscription.unsubscribe();
          expect(got).toEqual(expected);
        },
      ),
      { numRuns: 300 },
    );
  });
});
