import { randomUUID } from "node:crypto";
import confluent from "@confluentinc/kafka-javascript";
import kafkajs from "kafkajs";
import { from, lastValueFrom, map, reduce } from "rxjs";
import { createCodec } from "../avro/index.js";
import type { Codec } from "../avro/index.js";
import {
  KAFKAJS_FETCH_DEFAULTS,
  kafkaAdmin,
  kafkaSink,
  kafkaSource,
} from "../connectors/kafka/index.js";
import type { KafkaClientKind } from "../connectors/kafka/index.js";
import {
  MemoryLog,
  memorySink,
  memorySource,
} from "../connectors/memory/index.js";
import type { Sink, Source } from "../connectors/types.js";
import { writeTo } from "../connectors/write-to.js";
import { derive, record } from "../operators/record.js";
import type { Record } from "../operators/record.js";
import {
  decodeBatches,
  Stopwatch,
  type RunTiming,
  type Suite,
  type Workload,
} from "./harness.js";

/** The bench's record: 256 bytes on the wire once Avro-encoded with single-object framing. */
export interface BenchEvent {
  readonly id: string;
  readonly seq: number;
  readonly timestamp: number;
  readonly amount: number;
  readonly payload: string;
}

/** A bench-only Avro schema (not a wire schema of ours, so it lives here, not in avro/schemas). */
const BENCH_EVENT_SCHEMA = {
  type: "record",
  name: "BenchEvent",
  namespace: "dev.sluice.bench",
  fields: [
    { name: "id", type: "string" },
    { name: "seq", type: "long" },
    { name: "timestamp", type: "long" },
    { name: "amount", type: "int" },
    { name: "payload", type: "string" },
  ],
} as const;

/** Options of the Kafka suites. */
export interface KafkaBenchOptions {
  readonly brokers: readonly string[];
  /** Records per run. */
  readonly records: number;
  /** Encoded value size in bytes. */
  readonly valueBytes: number;
  /** Records per produced batch (`send` or `sink.write`). */
  readonly batch: number;
  /** Batches in flight on the produce side, the same for every producer. */
  readonly inFlight: number;
  readonly partitions: number;
  /** Distinct keys (murmur2 picks the partition). */
  readonly keys: number;
}

/** The codec and `records` events whose encoding is exactly `valueBytes` long. */
export function benchEvents(
  records: number,
  valueBytes: number,
): { codec: Codec<BenchEvent>; events: BenchEvent[] } {
  const codec = createCodec<BenchEvent>(BENCH_EVENT_SCHEMA);
  const make = (seq: number, pad: number): BenchEvent => ({
    id: `evt-${String(seq).padStart(10, "0")}`,
    seq,
    timestamp: 1_700_000_000_000 + seq,
    amount: seq % 10_000,
    payload: "x".repeat(pad),
  });
  // Grow the payload until the frame of the largest seq reaches the target size.
  let pad = 0;
  while (codec.encode(make(records, pad)).length < valueBytes) pad += 1;
  const events = Array.from({ length: records }, (_, i) => make(i, pad));
  return { codec, events };
}

const keyOf = (e: BenchEvent, keys: number): string => `key-${e.seq % keys}`;

const unique = (): string => randomUUID().slice(0, 8);

/**
 * Consume: the topic is filled once (setup); each run reads all of it from the beginning
 * in a fresh consumer group, decoding every value, and is timed from the first record to
 * the last (the group join is left out). Baseline: a bare kafkajs `eachBatch` loop.
 */
export function kafkaConsumeSuite(o: KafkaBenchOptions): Suite {
  const { codec, events } = benchEvents(o.records, o.valueBytes);
  const topic = `bench-consume-${unique()}`;
  const groups: string[] = [];
  const log = new MemoryLog();
  const group = (label: string): string => {
    const g = `bench-${label}-${unique()}`;
    groups.push(g);
    return g;
  };

  const bareKafkajs: Workload = {
    name: "kafkajs eachBatch (bare)",
    records: o.records,
    bytes: o.records * o.valueBytes,
    note: "kafkajs consumer with the fetch sizes of Sluice's source, eachBatch, Avro decode per value, auto-commit every 1 s; no Sluice",
    run: async () => {
      const kafka = new kafkajs.Kafka({
        brokers: [...o.brokers],
        clientId: "bench",
        logLevel: kafkajs.logLevel.ERROR,
      });
      const consumer = kafka.consumer({
        groupId: group("bare-kafkajs"),
        maxWaitTimeInMs: 100,
        sessionTimeout: 10_000,
        heartbeatInterval: 1_000,
        // As Sluice's source asks (8 MiB per partition): the same fetch round trips.
        ...KAFKAJS_FETCH_DEFAULTS,
        partitionAssigners: [kafkajs.PartitionAssigners.roundRobin],
      });
      const watch = new Stopwatch(o.records);
      await consumer.connect();
      try {
        await consumer.subscribe({ topics: [topic], fromBeginning: true });
        await consumer.run({
          autoCommitInterval: 1_000,
          eachBatch: decodeBatches(codec, watch),
        });
        return await watch.done;
      } finally {
        await consumer.disconnect();
      }
    },
  };

  const bareConfluent: Workload = {
    name: "confluent eachBatch (bare)",
    records: o.records,
    bytes: o.records * o.valueBytes,
    note: "@confluentinc/kafka-javascript (KafkaJS API), eachBatch of ≤ 500, Avro decode, auto-commit every 1 s; no Sluice",
    run: async () => {
      const kafka = new confluent.KafkaJS.Kafka({
        kafkaJS: {
          brokers: [...o.brokers],
          clientId: "bench",
          logLevel: confluent.KafkaJS.logLevel.ERROR,
        },
      });
      const consumer = kafka.consumer({
        kafkaJS: {
          groupId: group("bare-confluent"),
          fromBeginning: true,
          autoCommit: true,
          autoCommitInterval: 1_000,
          maxWaitTimeInMs: 100,
        },
        "js.consumer.max.batch.size": 500,
      });
      const watch = new Stopwatch(o.records);
      await consumer.connect();
      try {
        await consumer.subscribe({ topics: [topic] });
        await consumer.run({
          eachBatch: decodeBatches(codec, watch),
        });
        return await watch.done;
      } finally {
        await consumer.disconnect();
      }
    },
  };

  /** Subscribes, acks every record at once, resolves with the timing, then closes. */
  const drain = async (source: Source<BenchEvent>): Promise<RunTiming> => {
    const watch = new Stopwatch(o.records);
    let failed: ((e: unknown) => void) | undefined;
    const error = new Promise<never>((_, reject) => (failed = reject));
    const sub = source.records().subscribe({
      next: (r) => {
        watch.tick();
        r.ack.ack();
      },
      error: (e: unknown) => failed?.(e),
    });
    try {
      return await Promise.race([watch.done, error]);
    } finally {
      sub.unsubscribe();
      await source.close();
    }
  };

  const sluiceKafka = (client: KafkaClientKind): Workload => ({
    name: `sluice kafkaSource (${client})`,
    records: o.records,
    bytes: o.records * o.valueBytes,
    note: `kafkaSource over ${client}: Avro decode, records with batch ack handles, each acked, commit tracker commits every 1 s`,
    run: () =>
      drain(
        kafkaSource<BenchEvent>({
          brokers: o.brokers,
          client,
          group: group(`sluice-${client}`),
          topics: [topic],
          decode: (bytes) => codec.decode(bytes),
          onDecodeError: "fail",
        }),
      ),
  });

  const sluiceMemory: Workload = {
    name: "sluice memorySource (memory log)",
    records: o.records,
    bytes: o.records * o.valueBytes,
    note: "memorySource over the in-process log holding the same Avro bytes, decoded per record, each acked",
    run: async () => {
      const source = memorySource<Buffer>(log, {
        group: group("memory"),
        topics: [topic],
      });
      const watch = new Stopwatch(o.records);
      let failed: ((e: unknown) => void) | undefined;
      const error = new Promise<never>((_, reject) => (failed = reject));
      const sub = source.records().subscribe({
        next: (r) => {
          watch.tick();
          codec.decode(r.value);
          r.ack.ack();
        },
        error: (e: unknown) => failed?.(e),
      });
      try {
        return await Promise.race([watch.done, error]);
      } finally {
        sub.unsubscribe();
        await source.close();
      }
    },
  };

  return {
    name: "connectors-consume",
    baseline: bareKafkajs.name,
    workloads: [
      bareKafkajs,
      sluiceKafka("kafkajs"),
      bareConfluent,
      sluiceKafka("confluent"),
      sluiceMemory,
    ],
    goals: [
      { workload: "sluice kafkaSource (kafkajs)", minRatio: 0.9 },
      { workload: "sluice kafkaSource (confluent)", minRecordsPerSec: 150_000 },
      { workload: "sluice kafkaSource (kafkajs)", minRecordsPerSec: 150_000 },
    ],
    setup: async () => {
      const admin = kafkaAdmin({ brokers: o.brokers });
      try {
        await admin.createTopics([{ topic, partitions: o.partitions }]);
      } finally {
        await admin.close();
      }
      await fillTopic(
        o,
        topic,
        events.map((e) => codec.encode(e)),
      );
      log.createTopic(topic, { partitions: o.partitions });
      for (const e of events)
        log.append(topic, { key: keyOf(e, o.keys), value: codec.encode(e) });
    },
    teardown: async () => {
      const admin = kafkaAdmin({ brokers: o.brokers });
      try {
        await admin.deleteGroups(groups).catch(() => undefined);
        await admin.deleteTopics([topic]);
      } finally {
        await admin.close();
      }
    },
  };
}

/** Fills a topic fast with a bare kafkajs producer (acks=1, big batches): setup, untimed. */
async function fillTopic(
  o: KafkaBenchOptions,
  topic: string,
  values: readonly Buffer[],
): Promise<void> {
  const kafka = new kafkajs.Kafka({
    brokers: [...o.brokers],
    clientId: "bench-fill",
    logLevel: kafkajs.logLevel.ERROR,
  });
  const producer = kafka.producer();
  await producer.connect();
  try {
    for (let i = 0; i < values.length; i += 5_000)
      await producer.send({
        topic,
        acks: 1,
        messages: values
          .slice(i, i + 5_000)
          .map((value, j) => ({ key: `key-${(i + j) % o.keys}`, value })),
      });
  } finally {
    await producer.disconnect();
  }
}

/** Runs `send` over the batches with at most `inFlight` of them pending. */
async function sendAll<B>(
  batches: readonly B[],
  inFlight: number,
  send: (batch: B) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < batches.length) await send(batches[next++]!);
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
}

/**
 * Produce: each run encodes and writes every event (acks=all, idempotent producers, batches
 * of `batch`, `inFlight` batches in flight), timed after connect. Baseline: a bare kafkajs
 * producer with the settings Sluice's sink uses.
 */
export function kafkaProduceSuite(o: KafkaBenchOptions): Suite {
  const { codec, events } = benchEvents(o.records, o.valueBytes);
  const topic = `bench-produce-${unique()}`;
  const batches: BenchEvent[][] = [];
  for (let i = 0; i < events.length; i += o.batch)
    batches.push(events.slice(i, i + o.batch));
  const records: Record<BenchEvent>[] = events.map((e) =>
    record({ key: keyOf(e, o.keys), value: e, timestamp: e.timestamp }),
  );
  const log = new MemoryLog({ retentionRecords: o.records });

  const timed = async (
    connect: () => Promise<void>,
    body: () => Promise<void>,
    close: () => Promise<void>,
  ): Promise<RunTiming> => {
    await connect();
    try {
      const t0 = process.hrtime.bigint();
      await body();
      return { seconds: Number(process.hrtime.bigint() - t0) / 1e9 };
    } finally {
      await close();
    }
  };

  const bareKafkajs: Workload = {
    name: "kafkajs send (bare)",
    records: o.records,
    bytes: o.records * o.valueBytes,
    note: `kafkajs idempotent producer, acks=all, Avro encode, send of ${o.batch} records, ${o.inFlight} sends in flight; no Sluice`,
    run: () => {
      const kafka = new kafkajs.Kafka({
        brokers: [...o.brokers],
        clientId: "bench",
        logLevel: kafkajs.logLevel.ERROR,
      });
      const producer = kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
      });
      return timed(
        () => producer.connect(),
        () =>
          sendAll(batches, o.inFlight, (b) =>
            producer.send({
              topic,
              acks: -1,
              messages: b.map((e) => ({
                key: keyOf(e, o.keys),
                value: codec.encode(e),
              })),
            }),
          ),
        () => producer.disconnect(),
      );
    },
  };

  const bareConfluent: Workload = {
    name: "confluent send (bare)",
    records: o.records,
    bytes: o.records * o.valueBytes,
    note: `@confluentinc/kafka-javascript idempotent producer, acks=all, linger 5 ms, Avro encode, send of ${o.batch}, ${o.inFlight} in flight; no Sluice`,
    run: () => {
      const kafka = new confluent.KafkaJS.Kafka({
        kafkaJS: {
          brokers: [...o.brokers],
          clientId: "bench",
          logLevel: confluent.KafkaJS.logLevel.ERROR,
        },
      });
      const producer = kafka.producer({
        kafkaJS: { idempotent: true, acks: -1 },
        "linger.ms": 5,
        partitioner: "murmur2_random",
      });
      return timed(
        () => producer.connect(),
        () =>
          sendAll(batches, o.inFlight, (b) =>
            producer.send({
              topic,
              messages: b.map((e) => ({
                key: keyOf(e, o.keys),
                value: codec.encode(e),
              })),
            }),
          ),
        () => producer.disconnect(),
      );
    },
  };

  /** records → writeTo(sink): the path a job takes; fails unless every record was written. */
  const viaWriteTo = async (sink: Sink<Buffer>): Promise<void> => {
    const written = await lastValueFrom(
      from(records).pipe(
        map((r) => derive(r, codec.encode(r.value))),
        writeTo(sink, { maxBatch: o.batch, maxWaitMs: 5 }),
        reduce((n, w) => {
          if (!w.ok) throw w.error;
          return n + w.count;
        }, 0),
      ),
    );
    if (written !== o.records)
      throw new Error(`wrote ${written} of ${o.records} records`);
  };

  const sluiceKafka = (client: KafkaClientKind): Workload => ({
    name: `sluice kafkaSink (${client})`,
    records: o.records,
    bytes: o.records * o.valueBytes,
    note: `records → Avro encode → writeTo(kafkaSink over ${client}, maxBatch ${o.batch}), sink maxInFlight ${o.inFlight}, default sink settings (idempotent, acks=all)`,
    run: () => {
      const sink = kafkaSink<Buffer>({
        brokers: o.brokers,
        client,
        topic,
        encode: (b) => b,
        maxInFlight: o.inFlight,
      });
      return timed(
        () => sink.connect(),
        () => viaWriteTo(sink),
        () => sink.close(),
      );
    },
  });

  const sluiceMemory: Workload = {
    name: "sluice memorySink (memory log)",
    records: o.records,
    bytes: o.records * o.valueBytes,
    note: `records → Avro encode → writeTo(memorySink, maxBatch ${o.batch}) into the in-process log`,
    run: () => {
      const sink = memorySink<Buffer>(log, { topic });
      return timed(
        () => sink.connect(),
        () => viaWriteTo(sink),
        () => sink.close(),
      );
    },
  };

  return {
    name: "connectors-produce",
    baseline: bareKafkajs.name,
    workloads: [
      bareKafkajs,
      sluiceKafka("kafkajs"),
      bareConfluent,
      sluiceKafka("confluent"),
      sluiceMemory,
    ],
    goals: [{ workload: "sluice kafkaSink (kafkajs)", minRatio: 0.9 }],
    setup: async () => {
      const admin = kafkaAdmin({ brokers: o.brokers });
      try {
        await admin.createTopics([{ topic, partitions: o.partitions }]);
      } finally {
        await admin.close();
      }
      log.createTopic(topic, { partitions: o.partitions });
    },
    teardown: async () => {
      const admin = kafkaAdmin({ brokers: o.brokers });
      try {
        await admin.deleteTopics([topic]);
      } finally {
        await admin.close();
      }
    },
  };
}
