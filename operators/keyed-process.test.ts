import { describe as group, expect, it } from "vitest";
import { asyncScheduler, from, map, Subject } from "rxjs";
import fc from "fast-check";
import { keyedProcess } from "./keyed-process.js";
import type { KeyedProcessOptions } from "./keyed-process.js";
import { valueState, mapState } from "./keyed-state.js";
import type { ValueState } from "./keyed-state.js";
import { memoryStateBackend } from "./memory-state-backend.js";
import type { Element } from "./element.js";
import { isWatermark, watermark } from "./element.js";
import { derive, record } from "./record.js";
import type { Record } from "./record.js";
import { CommitTracker } from "./commit-tracker.js";
import { SluiceError } from "./sluice-error.js";
import { rec, testScheduler } from "./internal/event-time-testing.js";

const ts = () => testScheduler((a, b) => expect(a).toEqual(b));
const show = (e: Element<string>): string =>
  isWatermark(e) ? `w${e.time}` : e.value;
const count = valueState<number>("count");
const counting: KeyedProcessOptions<number, string> = {
  process: (r, ctx) => {
    const s = ctx.state(count);
    const n = (s.value() ?? 0) + 1;
    s.update(n);
    return derive(r, `${ctx.key ?? "-"}:${n}`);
  },
};

group("keyedProcess", () => {
  it("holds a handle-less timer output until a sink acks it, and emits it again after a nack", () => {
    ts().run(({ cold, flush }) => {
      const backend = memoryStateBackend();
      const seen: { at: number; value: string; record: Record<string> }[] = [];
      let fired = 0;
      const started = asyncScheduler.now();
      const sub = cold<Element<number>>("a", { a: rec(1, 1, "x") })
        .pipe(
          keyedProcess<number, string>({
            backend,
            timerOutputBackoffMs: 5,
            process: (_r, ctx) =>
              ctx.timers.registerProcessingTime(ctx.now() + 3),
            onTimer: (t, ctx) => {
              fired += 1;
              return [
                record({ value: `${ctx.key ?? "-"}@${t}`, timestamp: t }),
                record({ value: "second", timestamp: t }),
              ];
            },
          }),
        )
        .subscribe((e) => {
          if (!isWatermark(e))
            seen.push({
              at: asyncScheduler.now() - started,
              value: e.value,
              record: e,
            });
        });
      flush();
      // Fired at 3: both outputs held, each under its own handle.
      expect(seen.map((s) => [s.at, s.value])).toEqual([
        [3, "x@3"],
        [3, "second"],
      ]);
      expect(backend.outputsInFlight?.()).toBe(2);
      seen[1]!.record.ack.ack();
      expect(backend.outputsInFlight?.()).toBe(1);
      seen[0]!.record.ack.nack(new SluiceError("UNAVAILABLE", "sink down"));
      expect(backend.outputsInFlight?.()).toBe(1);
      flush();
      // The same record again, 5 ms after the nack (virtual time), still held; the timer ran once.
      expect(seen.map((s) => [s.at, s.value])).toEqual([
        [3, "x@3"],
        [3, "second"],
        [8, "x@3"],
      ]);
      expect(seen[2]!.record.ack).not.toBe(seen[0]!.record.ack);
      expect(fired).toBe(1);
      expect(backend.outputsInFlight?.()).toBe(1);
      seen[2]!.record.ack.ack();
      seen[2]!.record.ack.ack(); // settling twice releases once
      expect(backend.outputsInFlight?.()).toBe(0);
      sub.unsubscribe();
    });
  });

  it("leaves a timer output's own handle alone", () => {
    ts().run(({ cold, flush }) => {
      const backend = memoryStateBackend();
      let acked = 0;
      const mine = {
        retain: () => undefined,
        ack: () => (acked += 1),
        nack: () => undefined,
        settled: false,
      };
      const out: Record<string>[] = [];
      const sub = cold<Element<number>>("a", { a: rec(1, 1, "x") })
        .pipe(
          keyedProcess<number, string>({
            backend,
            process: (_r, ctx) => ctx.timers.registerProcessingTime(ctx.now()),
            onTimer: (t) => record({ value: "mine", timestamp: t, ack: mine }),
          }),
        )
        .subscribe((e) => {
          if (!isWatermark(e)) out.push(e);
        });
      flush();
      expect(out[0]!.ack).toBe(mine);
      expect(backend.outputsInFlight?.()).toBe(0);
      out[0]!.ack.ack();
      expect(acked).toBe(1);
      sub.unsubscribe();
    });
  });

  it("names a bad timerOutputBackoffMs", () => {
    expect(() =>
      keyedProcess({ process: () => undefined, timerOutputBackoffMs: -1 }),
    ).toThrow(/timerOutputBackoffMs must be a non-negative number, got -1/);
  });

  it("completes on an empty source", () => {
    ts().run(({ cold, expectObservable }) => {
      expectObservable(
        cold<Element<number>>("|").pipe(keyedProcess(counting), map(show)),
      ).toBe("|");
    });
  });

  it("processes one record with its key's state", () => {
    ts().run(({ cold, expectObservable }) => {
      expectObservable(
        cold<Element<number>>("a|", { a: rec(1, 1, "x") }).pipe(
          keyedProcess(counting),
          map(show),
        ),
      ).toBe("a|", { a: "x:1" });
    });
  });

  it("keeps state per key across many records", () => {
    ts().run(({ cold, expectObservable }) => {
      const src = cold<Element<number>>("abcd|", {
        a: rec(1, 1, "x"),
        b: rec(1, 2, "y"),
        c: rec(1, 3, "x"),
        d: rec(1, 4),
      });
      expectObservable(src.pipe(keyedProcess(counting), map(show))).toBe(
        "abcd|",
        { a: "x:1", b: "y:1", c: "x:2", d: "-:1" },
      );
    });
  });

  it("forwards an error", () => {
    ts().run(({ cold, expectObservable }) => {
      expectObservable(
        cold<Element<number>>("a#", { a: rec(1, 1, "x") }).pipe(
          keyedProcess(counting),
          map(show),
        ),
      ).toBe("a#", { a: "x:1" });
    });
  });

  it("does not complete while the source does not", () => {
    ts().run(({ cold, expectObservable }) => {
      expectObservable(
        cold<Element<number>>("a-", { a: rec(1, 1, "x") }).pipe(
          keyedProcess(counting),
          map(show),
        ),
      ).toBe("a-", { a: "x:1" });
    });
  });

  it("cancels processing-time timers on early unsubscribe", () => {
    ts().run(({ cold, expectObservable, expectSubscriptions }) => {
      const src = cold<Element<number>>("a---", { a: rec(1, 1, "x") });
      const out = src.pipe(
        keyedProcess<number, string>({
          process: (_r, ctx) =>
            ctx.timers.registerProcessingTime(ctx.now() + 5),
          onTimer: (t) => record({ value: `timer ${t}`, timestamp: t }),
        }),
        map(show),
      );
      expectObservable(out, "^--!").toBe("");
      expectSubscriptions(src.subscriptions).toBe("^--!");
    });
  });

  it("errors when the user function throws", () => {
    ts().run(({ cold, expectObservable }) => {
      const boom = new Error("boom");
      const out = cold<Element<number>>("a", { a: rec(1, 1, "x") }).pipe(
        keyedProcess<number, string>({
          process: () => {
            throw boom;
          },
        }),
        map(show),
      );
      expectObservable(out).toBe("#", undefined, boom);
    });
  });

  it("fires event-time timers when a watermark passes them, before forwarding it", () => {
    const out: string[] = [];
    const _s = from([
      rec(1, 5, "x"),
      rec(2, 7, "y"),
      watermark(14),
      watermark(20),
    ] as Element<number>[])
      .pipe(
        keyedProcess<number, string>({
          process: (r, ctx) => ctx.timers.registerEventTime(r.timestamp + 10),
          onTimer: (t, ctx) =>
            record({
              key: ctx.key,
              value: `${ctx.domain} ${ctx.key ?? "-"}@${t}`,
              timestamp: t,
            }),
        }),
      )
      .subscribe((e) => out.push(show(e)));
    expect(out).toEqual(["w14", "event x@15", "event y@17", "w20"]);
  });

  it("fires processing-time timers through the scheduler", () => {
    ts().run(({ cold, expectObservable }) => {
      const src = cold<Element<number>>("a 9ms b", {
        a: rec(1, 1, "x"),
        b: rec(1, 1, "x"),
      });
      const out = src.pipe(
        keyedProcess<number, string>({
          process: (_r, ctx) =>
            ctx.timers.registerProcessingTime(ctx.now() + 3),
          onTimer: (t, ctx) =>
            record({ value: `${ctx.domain}@${t}`, timestamp: t }),
        }),
        map(show),
      );
      expectObservable(out).toBe("--- a 9ms b", {
        a: "processing@3",
        b: "processing@13",
      });
    });
  });

  it("schedules processing-time timers restored from a snapshot when subscribed", () => {
    ts().run(({ cold, expectObservable }) => {
      const backend = memoryStateBackend();
      backend.registerTimer("t/0", "processing", "x", 4);
      const out = cold<Element<number>>("-").pipe(
        keyedProcess<number, string>({
          backend,
          process: () => undefined,
          onTimer: (t, ctx) =>
            record({
              value: `${ctx.partition} ${ctx.key ?? "-"}@${t}`,
              timestamp: t,
            }),
        }),
        map(show),
      );
      expectObservable(out).toBe("----a", { a: "t/0 x@4" });
    });
  });

  it("wakes for processing-time timers restored after subscription (a partition assigned later)", () => {
    ts().run(({ cold, expectObservable, flush }) => {
      const backend = memoryStateBackend();
      const saved = memoryStateBackend();
      saved.registerTimer("t/0", "processing", "x", 6);
      const out = cold<Element<number>>("-").pipe(
        keyedProcess<number, string>({
          backend,
          process: () => undefined,
          onTimer: (t, ctx) =>
            record({ value: `${ctx.key ?? "-"}@${t}`, timestamp: t }),
        }),
        map(show),
      );
      const restoring = cold("--a").subscribe(() =>
        backend.restore(saved.snapshot()),
      );
      expectObservable(out).toBe("------a", { a: "x@6" });
      flush();
      restoring.unsubscribe();
    });
  });

  it("expires state after its TTL in processing time", () => {
    ts().run(({ cold, expectObservable }) => {
      const seen = valueState<number>("seen", { ttlMs: 5 });
      const out = cold<Element<number>>("ab 9ms c", {
        a: rec(1, 1, "x"),
        b: rec(1, 2, "x"),
        c: rec(1, 3, "x"),
      }).pipe(
        keyedProcess<number, string>({
          process: (r, ctx) => {
            const s = ctx.state(seen);
            const prior = s.value();
            s.update(r.timestamp);
            return record({ value: String(prior ?? "none"), timestamp: 0 });
          },
        }),
        map(show),
      );
      expectObservable(out).toBe("ab 9ms c", { a: "none", b: "1", c: "none" });
    });
  });

  it("reads TTL state against the clock of its record, and a handle read after the record against the clock then", () => {
    ts().run(({ cold, expectObservable, flush }) => {
      const seen = valueState<number>("seen", { ttlMs: 5 });
      let kept: ValueState<number> | undefined;
      let readLater: number | undefined | "not read" = "not read";
      const out = cold<Element<number>>("a", { a: rec(1, 1, "x") }).pipe(
        keyedProcess<number, string>({
          process: (_r, ctx) => {
            kept = ctx.state(seen);
            kept.update(1);
            return record({ value: String(kept.value()), timestamp: 0 });
          },
        }),
        map(show),
      );
      expectObservable(out).toBe("a", { a: "1" });
      // 9 ms later, outside any record: the entry is past its 5 ms TTL. (The clock is read
      // once per record; that reading must not outlive the record.)
      const later = cold("9ms z").subscribe(() => {
        readLater = kept?.value();
      });
      flush();
      later.unsubscribe();
      expect(readLater).toBeUndefined();
    });
  });

  it("sweeps expired state on its interval", () => {
    ts().run(({ cold, expectObservable, flush }) => {
      const backend = memoryStateBackend();
      const seen = valueState<number>("seen", { ttlMs: 5 });
      const out = cold<Element<number>>("a", { a: rec(1, 1, "x") }).pipe(
        keyedProcess<number, string>({
          backend,
          ttlSweepIntervalMs: 10,
          process: (r, ctx) => ctx.state(seen).update(r.value),
        }),
        map(show),
      );
      expectObservable(out, "^ 8ms !").toBe("");
      flush();
      expect(backend.partitions()).toEqual([""]);
    });
    ts().run(({ cold, expectObservable, flush }) => {
      const backend = memoryStateBackend();
      const seen = valueState<number>("seen", { ttlMs: 5 });
      const out = cold<Element<number>>("a", { a: rec(1, 1, "x") }).pipe(
        keyedProcess<number, string>({
          backend,
          ttlSweepIntervalMs: 10,
          process: (r, ctx) => ctx.state(seen).update(r.value),
        }),
        map(show),
      );
      expectObservable(out, "^ 12ms !").toBe("");
      flush();
      expect(backend.partitions()).toEqual([]);
    });
  });

  it("acks an input with no descendant output and retains for several", () => {
    const tracker = new CommitTracker("t", 0);
    const input = new Subject<Element<number>>();
    const outs: Record<string>[] = [];
    const _s = input
      .pipe(
        keyedProcess<number, string>({
          process: (r) =>
            r.value === 0 ? undefined : [derive(r, "a"), derive(r, "b")],
        }),
      )
      .subscribe((e) => {
        if (!isWatermark(e)) outs.push(e);
      });
    input.next(
      record({
        key: "k",
        value: 0,
        timestamp: 0,
        origin: { topic: "t", partition: 0, offset: 0 },
        ack: tracker.track(0),
      }),
    );
    expect(tracker.committable).toBe(1);
    input.next(
      record({
        key: "k",
        value: 1,
        timestamp: 0,
        origin: { topic: "t", partition: 0, offset: 1 },
        ack: tracker.track(1),
      }),
    );
    outs[0]!.ack.ack();
    expect(tracker.committable).toBe(1);
    outs[1]!.ack.ack();
    expect(tracker.committable).toBe(2);
  });

  it("partitions state by origin so a partition's snapshot stands alone", () => {
    const backend = memoryStateBackend();
    const _s = from([
      rec(1, 1, "x", 0),
      rec(1, 1, "x", 1),
      rec(1, 1, "x", 1),
    ] as Element<number>[])
      .pipe(keyedProcess({ ...counting, backend }))
      .subscribe();
    expect(backend.partitions().sort()).toEqual(["t/0", "t/1"]);
    expect(
      backend.snapshot(["t/1"]).partitions["t/1"]!.values["count"],
    ).toEqual([["x", 2, null]]);
  });

  it("gives the same results after snapshot and restore as without", () => {
    const sums = mapState<number>("sums");
    const options = (
      backend = memoryStateBackend(),
    ): KeyedProcessOptions<number, string> => ({
      backend,
      process: (r, ctx) => {
        const c = ctx.state(count);
        c.update((c.value() ?? 0) + r.value);
        ctx.state(sums).put(String(r.timestamp % 3), r.value);
        ctx.timers.registerEventTime(r.timestamp + 5);
        return derive(r, `${ctx.key ?? "-"}=${c.value()}`);
      },
      onTimer: (t, ctx) =>
        record({
          value: `${ctx.key ?? "-"}@${t}:${ctx.state(count).value()}:${JSON.stringify(ctx.state(sums).entries())}`,
          timestamp: t,
        }),
    });
    const elements = fc.array(
      fc.oneof(
        fc
          .tuple(
            fc.constantFrom("a", "b"),
            fc.integer({ min: 0, max: 50 }),
            fc.integer({ min: 0, max: 1 }),
            fc.integer({ min: 1, max: 5 }),
          )
          .map(([k, t, p, v]) => rec(v, t, k, p) as Element<number>),
        fc
          .integer({ min: 0, max: 60 })
          .map((t) => watermark(t) as Element<number>),
      ),
      { maxLength: 40 },
    );
    fc.assert(
      fc.property(elements, fc.nat(), (items, cut) => {
        const at = items.length === 0 ? 0 : cut % (items.length + 1);
        const run = (
          xs: Element<number>[],
          o: KeyedProcessOptions<number, string>,
        ): string[] => {
          const out: string[] = [];
          const _r = from(xs)
            .pipe(keyedProcess(o))
            .subscribe((e) => out.push(show(e)));
          return out;
        };
        const whole = run(items, options());
        const first = memoryStateBackend();
        const before = run(items.slice(0, at), options(first));
        const restored = memoryStateBackend();
        restored.restore(
          JSON.parse(JSON.stringify(first.snapshot())) as ReturnType<
            typeof first.snapshot
          >,
        );
        // the operator's watermark is not state: resume from the last one seen
        const lastWm = items
          .slice(0, at)
          .reduce(
            (m, e) => (isWatermark(e) ? Math.max(m, e.time) : m),
            -Infinity,
          );
        const rest = items
          .slice(at)
          .filter((e) => !isWatermark(e) || e.time > lastWm);
        const after = run(rest, options(restored));
        expect([...before, ...after]).toEqual(whole);
      }),
    );
  });
});
