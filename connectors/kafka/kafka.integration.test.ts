import { map } from "rxjs";
import { describe, expect, it } from "vitest";
import { requireServices } from "../../stack/index.js";
import { kafkaAdmin } from "./admin.js";
import { kafkaTestBed } from "../testing/kafka-test-bed.js";
import { derive } from "../../operators/record.js";
import type { Record } from "../../operators/record.js";
import { writeTo } from "../write-to.js";
import { sleep, waitFor } from "../testing/helpers.js";
import { SluiceError } from "../../operators/sluice-error.js";
import { DEAD_LETTER_HEADERS } from "./errors.js";
import { kafkaSink } from "./sink.js";
import { kafkaSource } from "./source.js";
import type { KafkaSource } from "./source.js";
import { readTopic, uniqueName } from "./testing.js";

interface Reading {
  readonly n: number;
}
const encodeText = (s: string): Buffer => Buffer.from(s, "utf8");
/** Values are JSON `{ "n": number }`; anything else is a decode error. */
const decodeReading = (b: Buffer): Reading => {
  const v = JSON.parse(b.toString("utf8")) as unknown;
  if (
    typeof v !== "object" ||
    v === null ||
    typeof (v as Reading).n !== "number"
  )
    throw new Error("not a reading");
  return v as Reading;
};

const kafka = kafkaTestBed(
  async () => (await requireServices(["kafka"])).kafkaBrokers,
);

async function topic(prefix: string, partitions = 2): Promise<string> {
  const name = uniqueName(prefix);
  kafka.topics.push(name);
  await kafka.admin.createTopics([{ topic: name, partitions }]);
  return name;
}

/** Waits until `group`'s commit on partition 0 of `t` reads `offset` (confluent's commit shows a little later). */
async function waitForCommit(
  group: string,
  t: string,
  offset: number,
): Promise<void> {
  const deadline = Date.now() + 10_000;
  let seen: number | undefined;
  for (;;) {
    seen = (await kafka.admin.lag(group, t))[0]?.committed;
    if (seen === offset) return;
    if (Date.now() > deadline)
      throw new Error(
        `commit of ${group} on ${t}: ${String(seen)}, expected ${offset}`,
      );
    await sleep(50);
  }
}

function collectAll<T>(source: KafkaSource<T>): {
  received: Record<T>[];
  stop: () => void;
} {
  const received: Record<T>[] = [];
  const sub = source.records().subscribe((r) => {
    received.push(r);
    r.ack.ack();
  });
  return { received, stop: () => sub.unsubscribe() };
}

for (const client of ["kafkajs", "confluent"] as const) {
  describe(`kafka (${client})`, () => {
    it("creates topics idempotently and reports a group's lag per partition", async () => {
      const t = await topic(`admin-${client}`, 3);
      const own = kafkaAdmin({ brokers: kafka.brokers, client });
      try {
        await own.createTopics([
          { topic: t, partitions: 3, config: { "retention.ms": "3600000" } },
        ]);
        expect((await own.topicOffsets(t)).map((p) => p.partition)).toEqual([
          0, 1, 2,
        ]);
        const sink = kafkaSink<string>({
          brokers: kafka.brokers,
          client,
          topic: t,
          encode: encodeText,
        });
        await sink.write(
          Array.from({ length: 9 }, (_, i) => ({
            key: `k${i}`,
            value: `v${i}`,
          })),
        );
        await sink.close();
        const lag = await own.lag(uniqueName("nobody"), t);
        expect(lag.map((l) => l.committed)).toEqual([
          undefined,
          undefined,
          undefined,
        ]);
        expect(lag.reduce((sum, l) => sum + l.lag, 0)).toBe(9);
      } finally {
        await own.close();
      }
    });

    it("sends undecodable bytes to the dead-letter topic with the reason in headers and acks the origin", async () => {
      const input = await topic(`dlq-in-${client}`);
      const dlq = await topic(`dlq-${client}`, 1);
      const sink = kafkaSink<string>({
        brokers: kafka.brokers,
        client,
        topic: input,
        encode: encodeText,
      });
      await sink.write([
        { key: "a", value: JSON.stringify({ n: 1 }) },
        { key: "a", value: "not json" },
        { key: "b", value: JSON.stringify({ n: 2 }) },
        { key: "b", value: JSON.stringify({ m: 3 }) },
        { key: "a", value: JSON.stringify({ n: 4 }) },
      ]);
      await sink.close();
      const group = uniqueName("dlq-group");
      const source = kafkaSource<Reading>({
        brokers: kafka.brokers,
        client,
        group,
        topics: [input],
        decode: decodeReading,
        deadLetterTopic: dlq,
        commitIntervalMs: 50,
      });
      const c = collectAll(source);
      try {
        await waitFor(
          () => c.received.length === 3 && source.metrics.deadLettered === 2,
          30_000,
          "3 readings and 2 dead letters",
        );
        expect(c.received.map((r) => r.value.n).sort()).toEqual([1, 2, 4]);
        expect(source.metrics.decodeErrors).toBe(2);
        const letters = await readTopic(kafka.brokers, client, dlq, 2);
        expect(letters.map((l) => l.value).sort()).toEqual(
          [JSON.stringify({ m: 3 }), "not json"].sort(),
        );
        for (const l of letters) {
          expect(l.headers[DEAD_LETTER_HEADERS.code]).toBe("DECODE");
          expect(l.headers[DEAD_LETTER_HEADERS.stage]).toBe("decode");
          expect(l.headers[DEAD_LETTER_HEADERS.topic]).toBe(input);
          expect(l.headers[DEAD_LETTER_HEADERS.message]).toMatch(
            /cannot decode value/,
          );
          expect(
            Number(l.headers[DEAD_LETTER_HEADERS.offset]),
          ).toBeGreaterThanOrEqual(0);
          expect(["0", "1"]).toContain(
            l.headers[DEAD_LETTER_HEADERS.partition],
          );
        }
        // Dead-lettered origins are acked: everything gets committed.
        await source.commit();
        await waitFor(() => source.inFlight === 0, 10_000, "nothing in flight");
        await source.commit();
        const lag = await kafka.admin.lag(group, input);
        expect(lag.reduce((sum, l) => sum + l.lag, 0)).toBe(0);
      } finally {
        c.stop();
        await source.close();
      }
    });

    it("skips undecodable bytes under the skip policy and counts them", async () => {
      const input = await topic(`skip-${client}`);
      const sink = kafkaSink<string>({
        brokers: kafka.brokers,
        client,
        topic: input,
        encode: encodeText,
      });
      await sink.write([
        { key: "a", value: "garbage" },
        { key: "a", value: JSON.stringify({ n: 7 }) },
      ]);
      await sink.close();
      const source = kafkaSource<Reading>({
        brokers: kafka.brokers,
        client,
        group: uniqueName("skip-group"),
        topics: [input],
        decode: decodeReading,
        onDecodeError: "skip",
      });
      const c = collectAll(source);
      try {
        await waitFor(
          () => c.received.length === 1 && source.metrics.skipped === 1,
          30_000,
          "one reading, one skip",
        );
        expect(c.received[0]!.value).toEqual({ n: 7 });
      } finally {
        c.stop();
        await source.close();
      }
    });

    it("writes each key to one partition in order, with no duplicates from the idempotent producer", async () => {
      const t = await topic(`order-${client}`, 3);
      const sink = kafkaSink<string>({
        brokers: kafka.brokers,
        client,
        topic: t,
        encode: encodeText,
      });
      const keys = 7;
      const perKey = 40;
      const input = Array.from({ length: keys * perKey }, (_, i) => ({
        key: `key-${i % keys}`,
        value: `key-${i % keys}:${Math.floor(i / keys)}`,
      }));
      for (let i = 0; i < input.length; i += 25)
        await sink.write(input.slice(i, i + 25));
      await sink.flush();
      await sink.close();
      expect(sink.metrics.recordsOut).toBe(input.length);
      const back = await readTopic(kafka.brokers, client, t, input.length);
      expect(back.length).toBe(input.length);
      const partitionOf = new Map<string, number>();
      const last = new Map<string, number>();
      for (const r of back) {
        expect(
          partitionOf.get(r.key) ?? r.partition,
          `${r.key} stays on one partition`,
        ).toBe(r.partition);
        partitionOf.set(r.key, r.partition);
        const seq = Number(r.value.split(":")[1]);
        expect(seq, `${r.key} in order`).toBe((last.get(r.key) ?? -1) + 1);
        last.set(r.key, seq);
      }
    });

    it("takes a fetched batch larger than maxInFlight chunk by chunk when records settle at once: each record once, in offset order", async () => {
      const t = await topic(`chunks-${client}`, 1);
      const sink = kafkaSink<string>({
        brokers: kafka.brokers,
        client,
        topic: t,
        encode: encodeText,
      });
      const count = 300;
      await sink.write(
        Array.from({ length: count }, (_, n) => ({
          key: "k",
          value: JSON.stringify({ n }),
        })),
      );
      await sink.close();
      const source = kafkaSource<Reading>({
        brokers: kafka.brokers,
        client,
        group: uniqueName("chunks-group"),
        topics: [t],
        decode: decodeReading,
        maxInFlight: 10,
        lowWatermark: 5,
        onDecodeError: "fail",
      });
      const c = collectAll(source);
      try {
        await waitFor(
          () => c.received.length >= count,
          30_000,
          `${count} records`,
        );
        await waitFor(() => source.inFlight === 0, 10_000, "nothing in flight");
        expect(c.received.map((r) => r.origin?.offset)).toEqual(
          Array.from({ length: count }, (_, n) => n),
        );
        expect(c.received.map((r) => r.value.n)).toEqual(
          Array.from({ length: count }, (_, n) => n),
        );
        expect(source.metrics.recordsIn).toBe(count);
      } finally {
        c.stop();
        await source.close();
      }
    });

    it("redelivers only the unacknowledged records of a nacked batch, decoded again, and commits the acknowledged prefix", async () => {
      const t = await topic(`redeliver-${client}`, 1);
      const sink = kafkaSink<string>({
        brokers: kafka.brokers,
        client,
        topic: t,
        encode: encodeText,
      });
      const count = 20;
      await sink.write(
        Array.from({ length: count }, (_, n) => ({
          key: "k",
          value: JSON.stringify({ n }),
        })),
      );
      await sink.close();
      const group = uniqueName("redeliver-group");
      kafka.groups.push(group);
      const decoded = new Map<number, number>();
      const source = kafkaSource<Reading>({
        brokers: kafka.brokers,
        client,
        group,
        topics: [t],
        decode: (b) => {
          const r = decodeReading(b);
          decoded.set(r.n, (decoded.get(r.n) ?? 0) + 1);
          return r;
        },
        commitIntervalMs: 0,
        onDecodeError: "fail",
      });
      const received: Record<Reading>[] = [];
      const sub = source.records().subscribe((r) => {
        received.push(r);
        if (r.value.n !== 5) r.ack.ack();
        else if (received.filter((x) => x.value.n === 5).length === 1)
          r.ack.nack(
            new SluiceError("UNAVAILABLE", "test: simulated failure", {
              retryable: true,
            }),
          );
        // the redelivered 5 is held: the commit stops just before it
      });
      try {
        await waitFor(
          () => received.length >= count + 1,
          30_000,
          "every record and the nacked one again",
        );
        await sleep(200);
        expect(received.map((r) => r.value.n).sort((a, b) => a - b)).toEqual(
          [...Array.from({ length: count }, (_, n) => n), 5].sort(
            (a, b) => a - b,
          ),
        );
        const fives = received.filter((r) => r.value.n === 5);
        expect(fives[1]).not.toBe(fives[0]);
        expect(fives[1]!.value).not.toBe(fives[0]!.value);
        expect(decoded.get(5)).toBe(2);
        expect(decoded.get(4)).toBe(1);
        expect(source.inFlight).toBe(1);
        await source.commit();
        await waitForCommit(group, t, 5);
        fives[1]!.ack.ack();
        expect(source.inFlight).toBe(0);
        await source.commit();
        await waitForCommit(group, t, count);
      } finally {
        sub.unsubscribe();
        await source.close();
      }
    });

    it("resumes a restarted source in the same group from the commit", async () => {
      const t = await topic(`restart-${client}`);
      const sink = kafkaSink<string>({
        brokers: kafka.brokers,
        client,
        topic: t,
        encode: encodeText,
      });
      const batch = (
        from: number,
        count: number,
      ): { key: string; value: string }[] =>
        Array.from({ length: count }, (_, i) => ({
          key: `k${(from + i) % 4}`,
          value: JSON.stringify({ n: from + i }),
        }));
      await sink.write(batch(0, 20));
      const group = uniqueName("restart-group");
      const options = {
        brokers: kafka.brokers,
        client,
        group,
        topics: [t],
        decode: decodeReading,
        onDecodeError: "fail" as const,
      };
      const first = kafkaSource<Reading>(options);
      const a = collectAll(first);
      await waitFor(
        () => a.received.length === 20,
        30_000,
        "the first 20 records",
      );
      a.stop();
      await first.close();
      await sink.write(batch(20, 10));
      await sink.close();
      const second = kafkaSource<Reading>(options);
      const b = collectAll(second);
      try {
        await waitFor(
          () => b.received.length >= 10,
          30_000,
          "the 10 records after the commit",
        );
        await second.commit();
        await waitFor(() => second.inFlight === 0, 10_000, "nothing in flight");
        expect(b.received.map((r) => r.value.n).sort((x, y) => x - y)).toEqual(
          Array.from({ length: 10 }, (_, i) => 20 + i),
        );
      } finally {
        b.stop();
        await second.close();
      }
    });

    it("runs a job from one Kafka topic to another with writeTo", async () => {
      const orders = await topic(`job-orders-${client}`);
      const totals = await topic(`job-totals-${client}`);
      const input = kafkaSink<string>({
        brokers: kafka.brokers,
        client,
        topic: orders,
        encode: encodeText,
      });
      await input.write(
        Array.from({ length: 50 }, (_, i) => ({
          key: `user-${i % 5}`,
          value: JSON.stringify({ cents: 100 * i }),
        })),
      );
      await input.close();
      // The README example, with unique topics.
      const source = kafkaSource<{ cents: number }>({
        brokers: kafka.brokers,
        client,
        group: uniqueName("billing"),
        topics: [orders],
        decode: (bytes) =>
          JSON.parse(bytes.toString("utf8")) as { cents: number },
        deadLetterTopic: `${orders}.dlq`,
      });
      const sink = kafkaSink<string>({
        brokers: kafka.brokers,
        client,
        topic: totals,
        encode: (s) => Buffer.from(s, "utf8"),
      });
      let written = 0;
      const sub = source
        .records()
        .pipe(
          map((r) => derive(r, `${r.value.cents / 100} EUR`)),
          writeTo(sink, { maxBatch: 500, maxWaitMs: 20 }),
        )
        .subscribe((result) => {
          if (result.ok) written += result.count;
        });
      try {
        await waitFor(
          () => written === 50 && source.inFlight === 0,
          30_000,
          "50 totals written and acked",
        );
        const back = await readTopic(kafka.brokers, client, totals, 50);
        expect(back.map((r) => r.value).sort()).toEqual(
          Array.from({ length: 50 }, (_, i) => `${i} EUR`).sort(),
        );
        expect(new Set(back.map((r) => r.key))).toEqual(
          new Set(["user-0", "user-1", "user-2", "user-3", "user-4"]),
        );
      } finally {
        sub.unsubscribe();
        await source.close();
        await sink.close();
      }
    });
  });
}
