import { describe, expect, it } from "vitest";
import type { CommitTrackerSnapshot } from "../../operators/commit-tracker.js";
import { requireServices } from "../../stack/index.js";
import { kafkaTestBed } from "../testing/kafka-test-bed.js";
import { waitFor } from "../testing/helpers.js";
import type { TopicPartition } from "../types.js";
import { kafkaSink } from "./sink.js";
import { kafkaSource } from "./source.js";
import type { KafkaSource } from "./source.js";
import { uniqueName } from "./testing.js";

const kafka = kafkaTestBed(
  async () => (await requireServices(["kafka"])).kafkaBrokers,
);

const utf8 = (b: Buffer): string => b.toString("utf8");

/** A fresh topic holding `count` records (values "0".."count-1", round-robin over partitions). */
async function topicWith(
  prefix: string,
  count: number,
  partitions = 1,
): Promise<string> {
  const name = uniqueName(prefix);
  kafka.topics.push(name);
  await kafka.admin.createTopics([{ topic: name, partitions }]);
  const sink = kafkaSink<string>({
    brokers: kafka.brokers,
    topic: name,
    encode: (s) => Buffer.from(s, "utf8"),
  });
  await sink.write(
    Array.from({ length: count }, (_, i) => ({
      key: `k${i}`,
      value: String(i),
      partition: i % partitions,
    })),
  );
  await sink.close();
  return name;
}

function group(prefix: string): string {
  const g = uniqueName(prefix);
  kafka.groups.push(g);
  return g;
}

for (const client of ["kafkajs", "confluent"] as const) {
  const sourceFor = (
    g: string,
    t: string,
    extra: { commitIntervalMs?: number } = {},
  ): KafkaSource<string> =>
    kafkaSource<string>({
      brokers: kafka.brokers,
      client,
      group: g,
      topics: [t],
      decode: utf8,
      onDecodeError: "skip",
      commitIntervalMs: extra.commitIntervalMs ?? 50,
      sessionTimeoutMs: 6_000,
      heartbeatIntervalMs: 500,
      rebalanceTimeoutMs: 10_000,
    });

  /** Reads everything once with `g` and closes, so the group's commit is at the end. */
  async function consumeAll(
    g: string,
    t: string,
    count: number,
  ): Promise<void> {
    const source = sourceFor(g, t);
    let n = 0;
    const sub = source.records().subscribe((r) => {
      n += 1;
      r.ack.ack();
    });
    await waitFor(() => n === count, 30_000, `${count} records`);
    sub.unsubscribe();
    await source.close();
  }

  /**
   * Restores every assigned partition as the checkpoint coordinator does: pause inside the
   * `assigned` event, restore after an asynchronous load, resume.
   */
  function restoring(
    source: KafkaSource<string>,
    snapshotOf: (tp: TopicPartition) => CommitTrackerSnapshot,
  ): { readonly restored: TopicPartition[] } {
    const restored: TopicPartition[] = [];
    // Completes when the source closes.
    // eslint-disable-next-line rxjs-x/no-ignored-subscription
    source.assignments().subscribe((e) => {
      if (e.type !== "assigned") return;
      source.pause(e.partitions);
      setTimeout(() => {
        source.restore(e.partitions.map(snapshotOf));
        restored.push(...e.partitions);
        source.resume(e.partitions);
      }, 50);
    });
    return { restored };
  }

  describe(`kafka source restore and beforeRelease (${client})`, () => {
    const cases: {
      name: string;
      committed: number | undefined;
      doneAbove: [number, number][];
      expected: number[];
    }[] = [
      {
        name: "a restore to an offset older than the group's commit reads again from there",
        committed: 5,
        doneAbove: [],
        expected: range(5, 20),
      },
      {
        name: "a restore skips the checkpoint's done-above offsets and still commits past them",
        committed: 5,
        doneAbove: [
          [8, 10],
          [15, 15],
        ],
        expected: [5, 6, 7, 11, 12, 13, 14, 16, 17, 18, 19],
      },
      {
        name: "a restore without a checkpoint starts by startFrom, ignoring the group's commit",
        committed: undefined,
        doneAbove: [],
        expected: range(0, 20),
      },
    ];
    for (const c of cases) {
      it(c.name, async () => {
        const t = await topicWith(`restore-${client}`, 20);
        const g = group(`restore-${client}`);
        await consumeAll(g, t, 20);
        expect((await kafka.admin.lag(g, t))[0]!.committed).toBe(20);

        const source = sourceFor(g, t);
        const r = restoring(source, (tp) => ({
          ...tp,
          committed: c.committed,
          doneAbove: c.doneAbove,
        }));
        const offsets: number[] = [];
        const sub = source.records().subscribe((rec) => {
          offsets.push(rec.origin!.offset);
          rec.ack.ack();
        });
        try {
          await waitFor(
            () => offsets.length >= c.expected.length,
            30_000,
            `${c.expected.length} records`,
          );
          expect(r.restored).toEqual([{ topic: t, partition: 0 }]);
          await waitFor(
            () => source.snapshot()[0]?.committed === 20,
            10_000,
            "the commit point at the end",
          );
          expect(offsets).toEqual(c.expected);
          expect(source.snapshot()[0]!.doneAbove).toEqual([]);
        } finally {
          sub.unsubscribe();
          await source.close();
        }
      });
    }

    it("restore refuses a partition the source does not own", () => {
      const source = sourceFor(group("restore-none"), "nowhere");
      expect(() =>
        source.restore([
          { topic: "nowhere", partition: 0, committed: 1, doneAbove: [] },
        ]),
      ).toThrow(/partition not owned/);
    });

    it("runs beforeRelease on close after the drain and before the commit", async () => {
      const t = await topicWith(`release-close-${client}`, 10);
      const g = group(`release-close-${client}`);
      const source = sourceFor(g, t, { commitIntervalMs: 0 });
      const seen: {
        partitions: readonly TopicPartition[];
        inFlight: number;
        snapshot: readonly CommitTrackerSnapshot[];
        groupCommit: number | undefined;
      }[] = [];
      source.beforeRelease(async (partitions) => {
        seen.push({
          partitions,
          inFlight: source.inFlight,
          snapshot: source.snapshot(),
          groupCommit: (await kafka.admin.lag(g, t))[0]!.committed,
        });
      });
      let n = 0;
      const sub = source.records().subscribe((r) => {
        n += 1;
        setTimeout(() => r.ack.ack(), 5);
      });
      await waitFor(() => n === 10, 30_000, "10 records");
      sub.unsubscribe();
      await source.close();
      expect(seen).toHaveLength(1);
      expect(seen[0]!.partitions).toEqual([{ topic: t, partition: 0 }]);
      expect(seen[0]!.inFlight).toBe(0);
      expect(seen[0]!.snapshot.map((s) => s.committed)).toEqual([10]);
      expect(seen[0]!.groupCommit).toBeUndefined();
      expect((await kafka.admin.lag(g, t))[0]!.committed).toBe(10);
    });

    it("runs beforeRelease on a revoke when a second member joins", async () => {
      const t = await topicWith(`release-revoke-${client}`, 10, 2);
      const g = group(`release-revoke-${client}`);
      const first = sourceFor(g, t);
      const released: {
        partitions: readonly TopicPartition[];
        inFlight: number;
      }[] = [];
      first.beforeRelease((partitions) => {
        released.push({ partitions, inFlight: first.inFlight });
        return Promise.resolve();
      });
      let n = 0;
      const sub = first.records().subscribe((r) => {
        n += 1;
        r.ack.ack();
      });
      const second = sourceFor(g, t);
      let sub2: { unsubscribe(): void } | undefined;
      try {
        await waitFor(() => n === 10, 30_000, "10 records");
        sub2 = second.records().subscribe((r) => r.ack.ack());
        await waitFor(
          () => released.length > 0,
          30_000,
          "the revoke of the first member",
        );
        expect(released[0]!.partitions.length).toBeGreaterThan(0);
        for (const tp of released[0]!.partitions) expect(tp.topic).toBe(t);
        expect(released[0]!.inFlight).toBe(0);
      } finally {
        sub.unsubscribe();
        sub2?.unsubscribe();
        await Promise.all([first.close(), second.close()]);
      }
    });
  });
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}
