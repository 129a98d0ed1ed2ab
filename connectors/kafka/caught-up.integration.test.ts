import { describe, expect, it } from "vitest";
import { requireServices } from "../../stack/index.js";
import { kafkaTestBed } from "../testing/kafka-test-bed.js";
import { ownerOf } from "../../operators/partition-owner.js";
import type { Record } from "../../operators/record.js";
import { waitFor } from "../testing/helpers.js";
import type { KafkaClientKind } from "./client.js";
import { kafkaSink } from "./sink.js";
import { kafkaSource } from "./source.js";
import { uniqueName } from "./testing.js";

// `KafkaSource.isCaughtUp` (for `withWatermarks({ isCaughtUp })`): a partition with records
// the source has not emitted yet is not caught up, whichever driver fetched them.

const RECORDS = 60;
const kafka = kafkaTestBed(
  async () => (await requireServices(["kafka"])).kafkaBrokers,
);

describe.each<KafkaClientKind>(["kafkajs", "confluent"])(
  "KafkaSource.isCaughtUp (%s)",
  (client) => {
    it("is false while a fetched backlog waits behind the in-flight cap, true once all of it is emitted", async () => {
      const topic = uniqueName(`caught-up-${client}`);
      const group = uniqueName("caught-up");
      kafka.topics.push(topic);
      kafka.groups.push(group);
      await kafka.admin.createTopics([{ topic, partitions: 1 }]);
      const sink = kafkaSink<Buffer>({
        brokers: kafka.brokers,
        topic,
        encode: (b) => b,
      });
      try {
        await sink.write(
          Array.from({ length: RECORDS }, (_, i) => ({
            key: "k",
            value: Buffer.from(String(i)),
            timestamp: Date.now(),
            headers: {},
          })),
        );
        await sink.flush();
      } finally {
        await sink.close();
      }
      const source = kafkaSource<Buffer>({
        brokers: kafka.brokers,
        group,
        topics: [topic],
        decode: (b) => b,
        client,
        startFrom: "earliest",
        maxInFlight: 10,
        onDecodeError: "fail",
      });
      const tp = { topic, partition: 0 };
      expect(source.isCaughtUp(tp)).toBeUndefined(); // not owned yet
      expect(source.lag()).toEqual([]);
      const held: Record<Buffer>[] = [];
      let received = 0;
      const sub = source.records().subscribe((r) => {
        received += 1;
        held.push(r);
      });
      try {
        // Nothing acked: the source stops at its cap with most of the topic unread.
        await waitFor(() => held.length >= 10, 30_000, "the first records");
        expect(held.length).toBeLessThan(RECORDS);
        expect(source.isCaughtUp(tp)).toBe(false);
        // Every origin leads back to the source, so withWatermarks follows its assignment.
        expect(held.every((r) => ownerOf(r.origin) === source)).toBe(true);
        // sluice_consumer_lag: what the source has not emitted of what it has fetched.
        const behind = source.lag().find((l) => l.partition === 0)?.lag ?? 0;
        expect(behind).toBeGreaterThan(0);
        expect(behind).toBeLessThanOrEqual(RECORDS - held.length);
        await waitFor(
          () => {
            for (const r of held.splice(0)) r.ack.ack();
            return source.isCaughtUp(tp) === true;
          },
          30_000,
          "the source to emit the rest",
        );
        expect(received).toBe(RECORDS);
        expect(source.lag()).toEqual([{ topic, partition: 0, lag: 0 }]);
      } finally {
        sub.unsubscribe();
        await source.close();
      }
    }, 60_000);
  },
);
