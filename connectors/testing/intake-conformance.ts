import { describe, expect, it } from "vitest";
import type { Record } from "../../operators/record.js";
import type { TopicPartition } from "../types.js";
import type {
  ConformanceOptions,
  SourceHarness,
  TestRecord,
} from "./harness.js";
import { collect, sourceSuite, sleep, values, waitFor } from "./helpers.js";

let groupSeq = 0;
const freshGroup = (): string =>
  `intake-${process.pid}-${Date.now().toString(36)}-${++groupSeq}`;

/** `count` records for `partition`, values `<prefix>-p<partition>:<seq>`. */
const onPartition = (
  partition: number,
  count: number,
  prefix: string,
): TestRecord[] =>
  Array.from({ length: count }, (_, i) => ({
    key: `${prefix}-p${partition}`,
    value: `${prefix}-p${partition}:${i}`,
    partition,
  }));

const byPartition = (rs: readonly Record<string>[]): Map<number, number> => {
  const counts = new Map<number, number>();
  for (const r of rs)
    counts.set(r.origin!.partition, (counts.get(r.origin!.partition) ?? 0) + 1);
  return counts;
};

/**
 * Registers the intake conformance suite: what the shared intake core
 * (`connectors/internal/intake.ts`) promises on every source that runs on it — the hard
 * per-partition cap, a partition share no other partition can take (so a partition that
 * falls behind, or starts late, is read while the others hold the whole pool), drain and
 * commit on close of records settled during the drain, and `beforeRelease` after the drain
 * while `snapshot()` still reports the partitions. Run it beside {@link sourceConformance}.
 *
 * @example
 * ```ts
 * intakeConformance("memory", () => memoryHarness());
 * ```
 */
export function intakeConformance(
  name: string,
  factory: () => Promise<SourceHarness>,
  options: ConformanceOptions = {},
): void {
  const timeoutMs = options.timeoutMs ?? 10_000;
  describe(`${name} intake conformance`, () => {
    const { setup, source, track, subscriptions } = sourceSuite(factory);

    it("never holds more than maxInFlightPerPartition unsettled records of one partition", async () => {
      const h = await setup();
      const perPartition = 12;
      const input = Array.from({ length: h.partitions }, (_, p) =>
        onPartition(p, perPartition, "cap"),
      ).flat();
      await h.produce(input);
      const s = await source(h, {
        group: freshGroup(),
        maxInFlightPerPartition: 3,
      });
      const c = track(collect(s, true));
      await waitFor(
        () => c.received.length >= 3 * h.partitions,
        timeoutMs,
        `3 records of each of ${h.partitions} partitions`,
      );
      await sleep(100);
      for (const n of byPartition(c.held).values())
        expect(n).toBeLessThanOrEqual(3);
      expect(c.held.length).toBe(3 * h.partitions);
      let maxHeld = 0;
      const deadline = Date.now() + timeoutMs;
      while (c.received.length < input.length) {
        if (Date.now() > deadline)
          throw new Error(
            `timed out with ${c.received.length}/${input.length} records`,
          );
        for (const n of byPartition(c.held).values())
          maxHeld = Math.max(maxHeld, n);
        c.ackHeld();
        await sleep(10);
      }
      expect(maxHeld).toBeLessThanOrEqual(3);
      expect(values(c.received).sort()).toEqual(values(input).sort());
    });

    it("reads a late-starting partition while the others hold the whole in-flight pool", async () => {
      const h = await setup();
      const maxInFlight = 2 * h.partitions;
      // Partitions 1.. fill the pool with records nothing settles (a window waiting for
      // the watermark that partition 0 holds back).
      const ahead = Array.from({ length: h.partitions - 1 }, (_, i) =>
        onPartition(i + 1, 3 * maxInFlight, "ahead"),
      ).flat();
      await h.produce(ahead);
      const s = await source(h, {
        group: freshGroup(),
        maxInFlight,
        lowWatermark: 1,
      });
      const held: Record<string>[] = [];
      const behind: string[] = [];
      subscriptions.push(
        s.records().subscribe((r) => {
          if (r.origin!.partition === 0) {
            behind.push(r.value);
            r.ack.ack();
          } else held.push(r);
        }),
      );
      await waitFor(
        () => held.length >= maxInFlight - 2,
        timeoutMs,
        "the partitions ahead to fill the pool",
      );
      const late = onPartition(0, 20, "behind");
      await h.produce(late);
      await waitFor(
        () => behind.length >= late.length,
        timeoutMs,
        `all ${late.length} records of partition 0 while ${held.length} others are held`,
      );
      expect(behind.sort()).toEqual(values(late).sort());
      expect(held.length).toBeLessThanOrEqual(maxInFlight);
      for (const r of held.splice(0)) r.ack.ack();
    });

    it("on close, waits for records settled during the drain and commits them", async () => {
      const h = await setup();
      const input = onPartition(0, 6, "drain").concat(
        onPartition(1, 6, "drain"),
      );
      await h.produce(input);
      const group = freshGroup();
      const a = await source(h, { group, drainTimeoutMs: timeoutMs });
      const ca = track(collect(a, true));
      await waitFor(
        () => ca.received.length >= input.length,
        timeoutMs,
        "the first member to read everything",
      );
      const closed = a.close();
      await sleep(50);
      ca.ackHeld();
      await closed;
      expect(a.inFlight).toBe(0);
      const b = await source(h, { group });
      const cb = track(collect(b));
      await h.produce(onPartition(0, 1, "after"));
      await waitFor(
        () => cb.received.length >= 1,
        timeoutMs,
        "the record produced after the close",
      );
      await sleep(100);
      expect(values(cb.received)).toEqual(["after-p0:0"]);
    });

    it("runs beforeRelease on close after the drain, while snapshot() still reports the partitions", async () => {
      const h = await setup();
      const input = onPartition(0, 4, "hook").concat(onPartition(1, 4, "hook"));
      await h.produce(input);
      const s = await source(h, { group: freshGroup() });
      const c = track(collect(s, true));
      await waitFor(
        () => c.received.length >= input.length,
        timeoutMs,
        "every record",
      );
      const seen: { partitions: TopicPartition[]; inFlight: number }[] = [];
      let committedAtHook: (number | undefined)[] = [];
      s.beforeRelease?.((partitions) => {
        seen.push({ partitions: [...partitions], inFlight: s.inFlight });
        committedAtHook = s
          .snapshot()
          .filter((snap) => snap.partition <= 1)
          .map((snap) => snap.committed);
        return Promise.resolve();
      });
      const closed = s.close();
      await sleep(50);
      expect(seen).toEqual([]);
      c.ackHeld();
      await closed;
      expect(seen).toHaveLength(1);
      expect(seen[0]!.inFlight).toBe(0);
      expect(seen[0]!.partitions.map((tp) => tp.partition).sort()).toEqual(
        Array.from({ length: h.partitions }, (_, p) => p),
      );
      expect(committedAtHook.sort()).toEqual([4, 4]);
    });
  });
}
