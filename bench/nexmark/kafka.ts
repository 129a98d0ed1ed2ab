import { randomUUID } from "node:crypto";
import confluent from "@confluentinc/kafka-javascript";
import kafkajs from "kafkajs";
import { lastValueFrom, map, take, tap } from "rxjs";
import {
  KAFKAJS_FETCH_DEFAULTS,
  kafkaAdmin,
  kafkaSource,
} from "../../connectors/kafka/index.js";
import type { KafkaClientKind } from "../../connectors/kafka/index.js";
import { isRecord, isWatermark } from "../../operators/element.js";
import type { Record } from "../../operators/record.js";
import {
  decodeBatches,
  Stopwatch,
  type RunTiming,
  type Suite,
  type Workload,
} from "../harness.js";
import { nexmarkCodec, nexmarkKey } from "./avro.js";
import type { NexmarkQuery } from "./common.js";
import type { GeneratorOptions, NexmarkEvent } from "./generator.js";
import { BID, defaultGeneratorOptions, NexmarkGenerator } from "./generator.js";
import { QUERIES } from "./suite.js";

/** What `fillNexmarkTopic` wrote. */
export interface NexmarkTopic {
  readonly topic: string;
  readonly events: number;
  readonly bids: number;
  /** Event time of the last event, epoch ms. */
  readonly lastTimestamp: number;
  /** Encoded value bytes written. */
  readonly bytes: number;
  /** Seconds the generate + encode + produce took (untimed by the harness; printed). */
  readonly seconds: number;
}

export const unique = (): string => randomUUID().slice(0, 8);

/**
 * Creates `topic` and writes `events` generated Nexmark events to it with a bare kafkajs
 * producer (acks=1, 5 000 per send, one send at a time so the log keeps event-time order): Avro values (`avro.ts`), the
 * auction (bid) or id as key, the event time as the Kafka timestamp, so every consumer
 * sees the same event time. Called once per benchmark invocation, not per run.
 */
export async function fillNexmarkTopic(
  brokers: readonly string[],
  topic: string,
  events: number,
  options: { partitions?: number; generator?: GeneratorOptions } = {},
): Promise<NexmarkTopic> {
  const t0 = process.hrtime.bigint();
  const admin = kafkaAdmin({ brokers });
  try {
    // Kept forever: Nexmark's event times (the record timestamps) lie in 2023, and
    // time-based retention would delete them within minutes.
    await admin.createTopics([
      {
        topic,
        partitions: options.partitions ?? 1,
        config: { "retention.ms": "-1" },
      },
    ]);
  } finally {
    await admin.close();
  }
  const codec = nexmarkCodec();
  const gen = new NexmarkGenerator(
    options.generator ?? defaultGeneratorOptions,
  );
  const kafka = new kafkajs.Kafka({
    brokers: [...brokers],
    clientId: "bench-nexmark-fill",
    logLevel: kafkajs.logLevel.ERROR,
  });
  const producer = kafka.producer();
  let bids = 0;
  let bytes = 0;
  let lastTimestamp = 0;
  await producer.connect();
  try {
    // One send at a time: concurrent sends can land out of order, and Nexmark's queries
    // (and the peers') rely on event time ascending along the partition.
    for (let first = 0; first < events; first += 5_000) {
      const messages: kafkajs.Message[] = [];
      for (let i = first; i < Math.min(first + 5_000, events); i++) {
        const e = gen.next();
        if (e.type === BID) bids += 1;
        const value = codec.encode(e);
        bytes += value.length;
        lastTimestamp = e.dateTime;
        messages.push({
          key: nexmarkKey(e),
          value,
          timestamp: String(e.dateTime),
        });
      }
      await producer.send({ topic, acks: 1, messages });
    }
  } finally {
    await producer.disconnect();
  }
  return {
    topic,
    events,
    bids,
    lastTimestamp,
    bytes,
    seconds: Number(process.hrtime.bigint() - t0) / 1e9,
  };
}

/** Deletes topics and consumer groups a suite made; never throws (teardown). */
export async function dropKafka(
  brokers: readonly string[],
  topics: readonly string[],
  groups: readonly string[],
): Promise<void> {
  const admin = kafkaAdmin({ brokers });
  try {
    if (groups.length > 0)
      await admin.deleteGroups([...groups]).catch(() => undefined);
    if (topics.length > 0)
      await admin.deleteTopics([...topics]).catch(() => undefined);
  } finally {
    await admin.close();
  }
}

/**
 * A bare kafkajs `eachBatch` loop over the whole topic in a fresh group, decoding every
 * value: the floor any kafkajs-based job pays. Fetches as much per round trip as Sluice's
 * source does (`KAFKAJS_FETCH_DEFAULTS`) unless `fetch` says otherwise (`"kafkajs"`: the
 * driver's own 1 MiB per partition). Timed from the first record to the last.
 */
export async function bareKafkajsLoop(
  brokers: readonly string[],
  topic: string,
  events: number,
  group: string,
  fetch: "sluice" | "kafkajs" = "sluice",
): Promise<RunTiming> {
  const codec = nexmarkCodec();
  const kafka = new kafkajs.Kafka({
    brokers: [...brokers],
    clientId: "bench",
    logLevel: kafkajs.logLevel.ERROR,
  });
  const consumer = kafka.consumer({
    groupId: group,
    maxWaitTimeInMs: 100,
    sessionTimeout: 10_000,
    heartbeatInterval: 1_000,
    ...(fetch === "sluice" ? KAFKAJS_FETCH_DEFAULTS : {}),
  });
  const watch = new Stopwatch(events);
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
}

/**
 * A bare librdkafka loop (@confluentinc/kafka-javascript, KafkaJS-compatible API,
 * `eachBatch` of ≤ 500) over the whole topic in a fresh group, decoding every value.
 */
export async function bareConfluentLoop(
  brokers: readonly string[],
  topic: string,
  events: number,
  group: string,
): Promise<RunTiming> {
  const codec = nexmarkCodec();
  const kafka = new confluent.KafkaJS.Kafka({
    kafkaJS: {
      brokers: [...brokers],
      clientId: "bench",
      logLevel: confluent.KafkaJS.logLevel.ERROR,
    },
  });
  const consumer = kafka.consumer({
    kafkaJS: {
      groupId: group,
      fromBeginning: true,
      autoCommit: true,
      autoCommitInterval: 1_000,
      maxWaitTimeInMs: 100,
    },
    "js.consumer.max.batch.size": 500,
  });
  const watch = new Stopwatch(events);
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
}

/**
 * A record read from the Nexmark topic, without its key: the queries key what they need
 * themselves and expect unkeyed input (as the in-memory source gives); the topic's key
 * (auction or id) is for partitioning.
 */
export const unkeyed = (r: Record<NexmarkEvent>): Record<NexmarkEvent> => ({
  key: undefined,
  value: r.value,
  timestamp: r.timestamp,
  headers: r.headers,
  origin: r.origin,
  ack: r.ack,
});

/** What a Sluice run of a query over Kafka produced. */
export interface KafkaQueryRun<R> extends RunTiming {
  readonly outputs: number;
  readonly rows: R[];
}

/**
 * Runs `query` over the first `events` records of `topic` with Sluice's `kafkaSource` in a
 * fresh group: Avro decode, records with batch ack handles, the query, a sink acking and
 * counting each result. The stream ends after `events` inputs (`take`), which closes the
 * open windows as the in-memory suite's end of input does, so the outputs are the same.
 * Windows hold their inputs' acks until they fire, so `maxInFlight` covers the whole run
 * (a 10 s window at 100 k events/s of event time holds 1 M inputs). Timed from the first
 * record to the last output; fails if an input was never acknowledged.
 */
export async function runKafkaQuery<R>(
  query: NexmarkQuery<R>,
  o: {
    readonly brokers: readonly string[];
    readonly topic: string;
    readonly events: number;
    readonly group: string;
    readonly client?: KafkaClientKind;
    readonly collect?: boolean;
  },
): Promise<KafkaQueryRun<R>> {
  const codec = nexmarkCodec();
  const source = kafkaSource<NexmarkEvent>({
    brokers: o.brokers,
    client: o.client ?? "kafkajs",
    group: o.group,
    topics: [o.topic],
    decode: (bytes) => codec.decode(bytes),
    onDecodeError: "fail",
    maxInFlight: o.events + 1,
  });
  let t0: bigint | undefined;
  let outputs = 0;
  let acked = 0;
  const rows: R[] = [];
  try {
    await lastValueFrom(
      source.records().pipe(
        take(o.events),
        map((r) => {
          t0 ??= process.hrtime.bigint();
          return unkeyed(r);
        }),
        query,
        tap((e) => {
          if (isRecord(e)) {
            outputs += 1;
            if (o.collect === true) rows.push(e.value);
            e.ack.ack();
            acked += 1;
          } else if (!isWatermark(e))
            throw new Error("nexmark over Kafka: late element");
        }),
      ),
      { defaultValue: undefined },
    );
    const seconds = Number(process.hrtime.bigint() - (t0 ?? 0n)) / 1e9;
    const unsettled = source.inFlight;
    if (unsettled !== 0)
      throw new Error(
        `nexmark over Kafka: ${unsettled} inputs never acknowledged (${acked} outputs acked)`,
      );
    return { seconds, outputs, rows };
  } finally {
    await source.close();
  }
}

export interface NexmarkKafkaOptions {
  readonly brokers: readonly string[];
  /** Events on the topic, all read by every run. */
  readonly events: number;
  readonly generator: GeneratorOptions;
  /** Query names to run (default all of the in-memory suite). */
  readonly queries?: readonly string[];
}

export const defaultNexmarkKafkaBench = {
  events: 500_000,
  generator: defaultGeneratorOptions,
} as const;

/**
 * `nexmark-kafka`: the generator writes the events to a one-partition topic once (setup),
 * then each run reads all of it from the beginning in a fresh consumer group: a bare kafkajs
 * loop (baseline), a bare librdkafka loop, and each Nexmark query with Sluice's Kafka source
 * (kafkajs). Every run fails if a Sluice query's output count differs from the hand-written
 * loop's over the same events, computed once in setup.
 */
export function nexmarkKafkaSuite(o: NexmarkKafkaOptions): Suite {
  const topic = `bench-nexmark-${unique()}`;
  const groups: string[] = [];
  const group = (label: string): string => {
    const g = `bench-nexmark-${label}-${unique()}`;
    groups.push(g);
    return g;
  };
  const expected = new Map<string, number>();
  const queries = QUERIES.filter(
    (q) => o.queries === undefined || o.queries.includes(q.name),
  );
  const bare: Workload[] = [
    {
      name: "kafkajs loop (bare)",
      records: o.events,
      note: "kafkajs eachBatch with the fetch sizes of Sluice's source, Avro decode per value, no Sluice: the floor",
      run: () => bareKafkajsLoop(o.brokers, topic, o.events, group("kafkajs")),
    },
    {
      name: "librdkafka loop (bare)",
      records: o.events,
      note: "@confluentinc/kafka-javascript eachBatch ≤ 500, Avro decode per value, no Sluice",
      run: () =>
        bareConfluentLoop(o.brokers, topic, o.events, group("confluent")),
    },
  ];
  const sluice = queries.map((q): Workload => ({
    name: `${q.name} sluice`,
    records: o.events,
    note: `kafkaSource (kafkajs) → ${q.what}`,
    run: async () => {
      const run = await runKafkaQuery(q.sluice(), {
        brokers: o.brokers,
        topic,
        events: o.events,
        group: group(q.name),
      });
      const want = expected.get(q.name);
      if (q.sameCount !== false && want !== undefined && run.outputs !== want)
        throw new Error(
          `nexmark-kafka ${q.name}: ${run.outputs} outputs, the loop gave ${want}`,
        );
      return { seconds: run.seconds };
    },
  }));
  return {
    name: "nexmark-kafka",
    baseline: bare[0]!.name,
    workloads: [...bare, ...sluice],
    setup: async () => {
      for (const q of queries) {
        let n = 0;
        q.loop(o.events, o.generator, () => (n += 1));
        expected.set(q.name, n);
      }
      const filled = await fillNexmarkTopic(o.brokers, topic, o.events, {
        generator: o.generator,
      });
      console.log(
        `nexmark-kafka: ${filled.events} events (${filled.bids} bids, ${(filled.bytes / filled.events).toFixed(0)} B/value) written to ${topic} in ${filled.seconds.toFixed(1)} s`,
      );
    },
    teardown: () => dropKafka(o.brokers, [topic], groups),
  };
}
