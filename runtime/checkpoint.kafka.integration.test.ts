import { filter, map, mergeMap, of, timer } from "rxjs";
import { describe, expect, it } from "vitest";
import { isRecord } from "../operators/element.js";
import { keyedProcess } from "../operators/keyed-process.js";
import { valueState } from "../operators/keyed-state.js";
import { memoryStateBackend } from "../operators/memory-state-backend.js";
import { derive } from "../operators/record.js";
import { statePartitionOf } from "../operators/state-backend.js";
import type { KafkaClientKind } from "../connectors/kafka/client.js";
import { kafkaSink } from "../connectors/kafka/sink.js";
import { kafkaSource } from "../connectors/kafka/source.js";
import { uniqueName } from "../connectors/kafka/testing.js";
import type { CheckpointStore } from "../connectors/checkpoint-store.js";
import { requireServices } from "../stack/index.js";
import { kafkaTestBed } from "../connectors/testing/kafka-test-bed.js";
import { CheckpointCoordinator } from "./checkpoint.js";
import type { CheckpointResult } from "./checkpoint.js";
import { memoryCheckpointStore } from "./memory-checkpoint-store.js";
import { waitUntil } from "./testing/count-job.js";

const KEYS = ["a", "b", "c", "d"];
const PARTITIONS = 3;
const COUNT = valueState<number>("count");
const kafka = kafkaTestBed(
  async () => (await requireServices(["kafka"])).kafkaBrokers,
);

/** One incarnation of a keyed count over a Kafka topic, checkpointed by the coordinator. */
function startCountJob(
  client: KafkaClientKind,
  topic: string,
  group: string,
  store: CheckpointStore,
) {
  const backend = memoryStateBackend();
  const source = kafkaSource<string>({
    brokers: kafka.brokers,
    client,
    group,
    topics: [topic],
    decode: (b) => b.toString("utf8"),
    onDecodeError: "skip",
    maxInFlight: 32,
    // Group commits run ahead of checkpoints on purpose: a restore must not trust them.
    commitIntervalMs: 20,
    sessionTimeoutMs: 6_000,
    heartbeatIntervalMs: 500,
    rebalanceTimeoutMs: 10_000,
  });
  const coordinator = new CheckpointCoordinator({
    job: "count",
    source,
    backend,
    store,
    intervalMs: 0,
    barrierTimeoutMs: 5_000,
  });
  coordinator.start();
  let processed = 0;
  const listeners: ((n: number) => void)[] = [];
  const subscription = source
    .records()
    .pipe(
      keyedProcess<string, number>({
        backend,
        process: (r, ctx) => {
          const s = ctx.state(COUNT);
          const n = (s.value() ?? 0) + 1;
          s.update(n);
          processed += 1;
          for (const l of listeners) l(processed);
          return derive(r, n);
        },
      }),
      filter(isRecord),
      // An asynchronous sink: counts already in state wait here with their handles pending.
      mergeMap(
        (r) => (r.value % 2 === 0 ? of(r) : timer(1).pipe(map(() => r))),
        8,
      ),
    )
    .subscribe({ next: (r) => r.ack.ack(), error: () => undefined });
  return {
    source,
    coordinator,
    onProcessed: (fn: (n: number) => void) => listeners.push(fn),
    /** kill -9: no drain, no final checkpoint, no commit. */
    async crash() {
      coordinator.close();
      subscription.unsubscribe();
      await source.abort();
    },
    async close() {
      coordinator.close();
      subscription.unsubscribe();
      await source.close();
    },
    counts() {
      const out = new Map<string, number>();
      for (const key of KEYS)
        for (let p = 0; p < PARTITIONS; p++) {
          const v = backend.getValue(
            statePartitionOf({ topic, partition: p }),
            "count",
            key,
            0,
          );
          if (typeof v === "number") out.set(key, (out.get(key) ?? 0) + v);
        }
      return out;
    },
    caughtUp(high: ReadonlyMap<number, number>) {
      const snaps = source.snapshot();
      return (
        snaps.length === PARTITIONS &&
        snaps.every((s) => (s.committed ?? 0) === high.get(s.partition))
      );
    },
  };
}

for (const client of ["kafkajs", "confluent"] as const) {
  describe(`checkpoint coordinator over a Kafka source (${client})`, () => {
    it("a keyed count killed mid-stream resumes from its checkpoint, not the group's newer commit, with exact counts", async () => {
      const topic = uniqueName(`ckpt-${client}`);
      kafka.topics.push(topic);
      const group = uniqueName(`ckpt-${client}`);
      kafka.groups.push(group);
      await kafka.admin.createTopics([{ topic, partitions: PARTITIONS }]);
      const reference = new Map<string, number>();
      const sink = kafkaSink<string>({
        brokers: kafka.brokers,
        client,
        topic,
        encode: (s) => Buffer.from(s, "utf8"),
      });
      const records = Array.from({ length: 600 }, (_, i) => {
        const key = KEYS[(i * 7) % KEYS.length]!;
        reference.set(key, (reference.get(key) ?? 0) + 1);
        return { key, value: String(i) };
      });
      await sink.write(records);
      await sink.close();
      const high = new Map(
        (await kafka.admin.topicOffsets(topic)).map((o) => [
          o.partition,
          o.high,
        ]),
      );
      const store = memoryCheckpointStore();

      const first = startCountJob(client, topic, group, store);
      const checkpoints: Promise<CheckpointResult>[] = [];
      let crashing: Promise<void> | undefined;
      first.onProcessed((n) => {
        if (n === 150 || n === 320)
          checkpoints.push(first.coordinator.checkpoint());
        if (n === 400)
          queueMicrotask(() => {
            crashing ??= first.crash();
          });
      });
      await waitUntil(() => crashing !== undefined, 30_000, "the crash");
      await crashing;
      const results = await Promise.all(checkpoints);
      expect(results.some((r) => r.saved)).toBe(true);

      const second = startCountJob(client, topic, group, store);
      try {
        await waitUntil(() => second.caughtUp(high), 30_000, "catch-up");
        await second.coordinator.restored();
        await waitUntil(() => second.caughtUp(high), 30_000, "catch-up");
        expect(second.counts()).toEqual(reference);
      } finally {
        await second.close();
      }
    });
  });
}
