import { describe, expect, it } from "vitest";
import type { Record } from "../../operators/record.js";
import { SluiceError } from "../../operators/sluice-error.js";
import type { AssignmentEvent, TopicPartition } from "../types.js";
import type { ConformanceOptions, SourceHarness } from "./harness.js";
import {
  collect,
  sourceSuite,
  expectPerKeyOrder,
  sleep,
  testRecords,
  values,
  waitFor,
} from "./helpers.js";

let groupSeq = 0;
const freshGroup = (): string =>
  `conformance-${process.pid}-${Date.now().toString(36)}-${++groupSeq}`;

/**
 * Registers the source conformance suite (STYLE.md habit 11) as vitest `describe`/`it`
 * blocks: close is idempotent, N in → N out, a nack redelivers, restart resumes from the
 * commit, revoke drains and commits, pause bounds in-flight records, per-key order holds.
 *
 * @example
 * ```ts
 * sourceConformance("memory", async () => {
 *   const topic = `conformance-${++n}`;
 *   log.createTopic(topic, { partitions: 3 });
 *   return {
 *     topic, partitions: 3,
 *     produce: async (rs) => { for (const r of rs) log.append(topic, r); },
 *     createSource: async (o) => memorySource<string>(log, { ...o, topics: [topic] }),
 *     cleanup: async () => {},
 *   };
 * });
 * ```
 */
export function sourceConformance(
  name: string,
  factory: () => Promise<SourceHarness>,
  options: ConformanceOptions = {},
): void {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const handover = options.revokeHandover ?? "commit-before-release";
  describe(`${name} source conformance`, () => {
    const { setup, source, track, subscriptions } = sourceSuite(factory);

    it("connects and closes idempotently, completing the record stream on close", async () => {
      const h = await setup();
      const s = await source(h, { group: freshGroup() });
      await s.connect();
      await s.connect();
      const c = track(collect(s));
      await s.close();
      await s.close();
      await waitFor(
        () => c.completed,
        timeoutMs,
        "records() to complete after close",
      );
      expect(c.error).toBeUndefined();
    });

    it("delivers every produced record: N in, N out", async () => {
      const h = await setup();
      const input = testRecords(60, 6, "n");
      await h.produce(input);
      const s = await source(h, { group: freshGroup() });
      const c = track(collect(s));
      await waitFor(
        () => c.received.length >= input.length,
        timeoutMs,
        `${input.length} records`,
      );
      await sleep(50);
      expect(values(c.received).sort()).toEqual(values(input).sort());
      for (const r of c.received) expect(r.origin?.topic).toBe(h.topic);
      await waitFor(
        () => s.inFlight === 0,
        timeoutMs,
        "in-flight records to settle",
      );
    });

    it("redelivers a nacked record", async () => {
      const h = await setup();
      await h.produce(testRecords(5, 5, "nack"));
      const s = await source(h, { group: freshGroup() });
      let victim: string | undefined;
      const seen: string[] = [];
      subscriptions.push(
        s.records().subscribe((r) => {
          seen.push(r.value);
          if (victim === undefined) {
            victim = r.value;
            r.ack.nack(
              new SluiceError("UNAVAILABLE", "conformance: simulated failure", {
                retryable: true,
              }),
            );
          } else r.ack.ack();
        }),
      );
      await waitFor(
        () =>
          victim !== undefined && seen.filter((v) => v === victim).length >= 2,
        timeoutMs,
        "the nacked record again",
      );
      await waitFor(
        () => new Set(seen).size === 5 && s.inFlight === 0,
        timeoutMs,
        "all records settled",
      );
    });

    it("resumes a new member of the group from the last commit after close", async () => {
      const h = await setup();
      const input = testRecords(30, 10, "restart");
      await h.produce(input);
      const group = freshGroup();
      const a = await source(h, { group, drainTimeoutMs: 200 });
      const ca = track(collect(a, true));
      await waitFor(
        () => ca.received.length >= input.length,
        timeoutMs,
        "first member to read everything",
      );
      // Per partition, ack the first half in offset order; leave the rest unsettled.
      const byPartition = new Map<number, Record<string>[]>();
      for (const r of ca.received)
        byPartition.set(r.origin!.partition, [
          ...(byPartition.get(r.origin!.partition) ?? []),
          r,
        ]);
      const acked = new Set<string>();
      for (const rs of byPartition.values()) {
        rs.sort((x, y) => x.origin!.offset - y.origin!.offset);
        for (const r of rs.slice(0, Math.floor(rs.length / 2))) {
          r.ack.ack();
          acked.add(r.value);
        }
      }
      await a.close();
      const b = await source(h, { group });
      const cb = track(collect(b));
      const expected = values(input)
        .filter((v) => !acked.has(v))
        .sort();
      await waitFor(
        () => cb.received.length >= expected.length,
        timeoutMs,
        `${expected.length} uncommitted records`,
      );
      await sleep(100);
      expect(values(cb.received).sort()).toEqual(expected);
    });

    it("on revoke, drains in-flight records and commits before another member takes over", async () => {
      const h = await setup();
      const first = testRecords(40, 8, "revoke-a");
      await h.produce(first);
      const group = freshGroup();
      const a = await source(h, { group, drainTimeoutMs: timeoutMs });
      const ca = track(collect(a, true));
      await waitFor(
        () => ca.received.length >= first.length,
        timeoutMs,
        "first member to read everything",
      );
      const revokedEvents: AssignmentEvent[] = [];
      subscriptions.push(
        a.assignments().subscribe((e) => {
          if (e.type !== "revoked") return;
          revokedEvents.push(e);
          // The job flushes what it holds a little later; the source must wait for it.
          setTimeout(() => {
            ca.hold = false;
            ca.ackHeld();
          }, 50);
        }),
      );
      const b = await source(h, { group });
      const owned: TopicPartition[] = [];
      subscriptions.push(
        b.assignments().subscribe((e) => {
          if (e.type === "assigned") owned.push(...e.partitions);
        }),
      );
      const cb = track(collect(b));
      await waitFor(
        () => owned.length > 0,
        timeoutMs,
        "second member to get partitions",
      );
      expect(revokedEvents.length).toBeGreaterThan(0);
      const second = testRecords(40, 8, "revoke-b");
      await h.produce(second);
      const all = (): Set<string> =>
        new Set([...values(ca.received), ...values(cb.received)]);
      await waitFor(
        () => values(second).every((v) => all().has(v)),
        timeoutMs,
        "records produced after the rebalance",
      );
      const firstValues = new Set(values(first));
      const again = cb.received.filter((r) => firstValues.has(r.value));
      if (handover === "commit-before-release")
        expect(values(again)).toEqual([]);
      else
        for (const r of again)
          expect(
            owned.some(
              (tp) =>
                tp.topic === r.origin?.topic &&
                tp.partition === r.origin.partition,
            ),
            `${r.value} redelivered from a partition the new member owns`,
          ).toBe(true);
    });

    it("never has more than maxInFlight records unsettled, and resumes below the low watermark", async () => {
      const h = await setup();
      const input = testRecords(40, 4, "pause");
      await h.produce(input);
      const s = await source(h, {
        group: freshGroup(),
        maxInFlight: 5,
        lowWatermark: 2,
      });
      const c = track(collect(s, true));
      let maxHeld = 0;
      await waitFor(
        () => c.received.length >= 5,
        timeoutMs,
        "the first 5 records",
      );
      await sleep(100);
      expect(c.held.length).toBe(5);
      expect(s.inFlight).toBeLessThanOrEqual(5);
      const deadline = Date.now() + timeoutMs;
      while (c.received.length < input.length) {
        if (Date.now() > deadline)
          throw new Error(
            `timed out with ${c.received.length}/${input.length} records`,
          );
        maxHeld = Math.max(maxHeld, c.held.length);
        c.ackHeld();
        await sleep(10);
      }
      maxHeld = Math.max(maxHeld, c.held.length);
      expect(maxHeld).toBeLessThanOrEqual(5);
    });

    it("stops intake on pause() and restarts on resume()", async () => {
      const h = await setup();
      const s = await source(h, { group: freshGroup() });
      const c = track(collect(s));
      await h.produce(testRecords(5, 5, "p1"));
      await waitFor(
        () => c.received.length >= 5,
        timeoutMs,
        "records before pause",
      );
      s.pause();
      await h.produce(testRecords(5, 5, "p2"));
      await sleep(200);
      expect(c.received.length).toBe(5);
      s.resume();
      await waitFor(
        () => c.received.length >= 10,
        timeoutMs,
        "records after resume",
      );
    });

    it("keeps per-key order", async () => {
      const h = await setup();
      const input = testRecords(90, 9, "order");
      await h.produce(input);
      const s = await source(h, { group: freshGroup() });
      const c = track(collect(s));
      await waitFor(
        () => c.received.length >= input.length,
        timeoutMs,
        `${input.length} records`,
      );
      expectPerKeyOrder(c.received);
    });
  });
}
