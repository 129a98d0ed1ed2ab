import { randomUUID } from "node:crypto";
import type {
  SinkHarness,
  SourceHarness,
  TestRecord,
} from "../testing/harness.js";
import { kafkaAdmin } from "./admin.js";
import type { KafkaClientKind } from "./client.js";
import { kafkaSink } from "./sink.js";
import { kafkaSource } from "./source.js";

/** A topic name no other run uses. */
export const uniqueName = (prefix: string): string =>
  `${prefix}-${Date.now().toString(36)}-${randomUUID().slice(0, 8)}`;

const utf8 = {
  encode: (s: string): Buffer => Buffer.from(s, "utf8"),
  decode: (b: Buffer): string => b.toString("utf8"),
};

/** Reads `topic` from the start until `expected` records arrived (or `timeoutMs`), each partition in offset order. */
export async function readTopic(
  brokers: readonly string[],
  client: KafkaClientKind,
  topic: string,
  expected: number,
  timeoutMs = 20_000,
): Promise<
  {
    key: string;
    value: string;
    headers: { readonly [k: string]: string };
    partition: number;
    offset: number;
  }[]
> {
  const source = kafkaSource<string>({
    brokers,
    client,
    group: uniqueName("readback"),
    topics: [topic],
    decode: utf8.decode,
    onDecodeError: "skip",
    commitIntervalMs: 0,
    maxInFlight: 100_000,
  });
  const out: {
    key: string;
    value: string;
    headers: { readonly [k: string]: string };
    partition: number;
    offset: number;
  }[] = [];
  const sub = source.records().subscribe((r) => {
    out.push({
      key: r.key ?? "",
      value: r.value,
      headers: r.headers,
      partition: r.origin!.partition,
      offset: r.origin!.offset,
    });
    r.ack.ack();
  });
  const deadline = Date.now() + timeoutMs;
  while (out.length < expected && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 20));
  sub.unsubscribe();
  await source.close();
  return out.sort((a, b) => a.partition - b.partition || a.offset - b.offset);
}

/** A {@link SourceHarness} over a fresh topic on a real broker. @internal */
export async function kafkaSourceHarness(
  brokers: readonly string[],
  client: KafkaClientKind,
  partitions = 3,
): Promise<SourceHarness> {
  const topic = uniqueName(`conf-src-${client}`);
  const admin = kafkaAdmin({ brokers, client });
  await admin.createTopics([{ topic, partitions }]);
  const producer = kafkaSink<string>({
    brokers,
    client,
    topic,
    encode: utf8.encode,
  });
  const groups: string[] = [];
  return {
    topic,
    partitions,
    produce: async (records: readonly TestRecord[]) => {
      await producer.write(records.map((r) => ({ ...r, topic })));
      await producer.flush();
    },
    createSource: (o) => {
      groups.push(o.group);
      return Promise.resolve(
        kafkaSource<string>({
          brokers,
          client,
          ...o,
          topics: [topic],
          decode: utf8.decode,
          onDecodeError: "skip",
          commitIntervalMs: 100,
          sessionTimeoutMs: 10_000,
          heartbeatIntervalMs: 500,
        }),
      );
    },
    cleanup: async () => {
      await producer.close();
      await admin.deleteGroups(groups).catch(() => undefined);
      await admin.deleteTopics([topic]);
      await admin.close();
    },
  };
}

/** A {@link SinkHarness} over a fresh topic on a real broker. @internal */
export async function kafkaSinkHarness(
  brokers: readonly string[],
  client: KafkaClientKind,
): Promise<SinkHarness> {
  const topic = uniqueName(`conf-sink-${client}`);
  const admin = kafkaAdmin({ brokers, client });
  await admin.createTopics([{ topic, partitions: 3 }]);
  return {
    topic,
    createSink: () =>
      Promise.resolve(
        kafkaSink<string>({ brokers, client, topic, encode: utf8.encode }),
      ),
    readBack: (expected) => readTopic(brokers, client, topic, expected),
    cleanup: async () => {
      await admin.deleteTopics([topic]);
      await admin.close();
    },
  };
}
