import {
  kafkaAdmin,
  kafkaSink,
  kafkaSource,
  type KafkaAdmin,
  type KafkaSource,
} from "../../connectors/kafka/index.js";
import {
  memorySink,
  memorySource,
  type MemoryLog,
  type MemorySource,
} from "../../connectors/memory/index.js";
import type { Sink, Source } from "../../connectors/types.js";
import type { OutreachTopics } from "./types.js";

const topicList = (t: OutreachTopics): string[] => [
  t.jobs,
  t.results,
  t.deadLetters,
];

/**
 * The log the outreach jobs run on: the embedded memory log or Kafka. Every topic carries Avro
 * bytes, so both hand `Buffer`s to the jobs, which decode them (a bad frame → dead letter).
 */
export interface OutreachTransport {
  readonly kind: "embedded" | "kafka";
  readonly topics: OutreachTopics;
  /** Creates the topics (idempotent). */
  setup(partitions: number): Promise<void>;
  source(group: string, topic: string, maxInFlight: number): Source<Buffer>;
  sink(topic: string): Sink<Buffer>;
  /** Drops a source like a killed process (no drain, no commit). */
  crash(source: Source<Buffer>): Promise<void>;
  /** Number of records on a topic (sum of partition end offsets). */
  count(topic: string): Promise<number>;
  /** Deletes the topics (and the groups) it created; the memory log needs nothing. */
  teardown(groups: readonly string[]): Promise<void>;
}

/**
 * The embedded default: `MemoryLog` topics.
 *
 * @example
 * ```ts
 * const t = embeddedTransport(new MemoryLog(), DEFAULT_TOPICS);
 * ```
 */
export function embeddedTransport(
  log: MemoryLog,
  topics: OutreachTopics,
): OutreachTransport {
  return {
    kind: "embedded",
    topics,
    setup(partitions) {
      for (const t of topicList(topics)) log.createTopic(t, { partitions });
      return Promise.resolve();
    },
    source: (group, topic, maxInFlight) =>
      memorySource<Buffer>(log, {
        group,
        topics: [topic],
        maxInFlight,
        commitIntervalMs: 200,
      }),
    sink: (topic) => memorySink<Buffer>(log, { topic }),
    async crash(source) {
      const member = (source as MemorySource<Buffer>).member;
      if (member !== undefined) await log.crash(member);
    },
    count(topic) {
      let n = 0;
      for (let p = 0; ; p++) {
        try {
          n += log.endOffset(topic, p) - log.startOffset(topic, p);
        } catch {
          break;
        }
      }
      return Promise.resolve(n);
    },
    teardown: () => Promise.resolve(),
  };
}

/**
 * Kafka: topics created with `partitions`, sources in consumer groups, idempotent producers.
 *
 * @example
 * ```ts
 * const t = kafkaTransport(["127.0.0.1:9092"], DEFAULT_TOPICS);
 * ```
 */
export function kafkaTransport(
  brokers: readonly string[],
  topics: OutreachTopics,
  keep = false,
): OutreachTransport & { readonly admin: KafkaAdmin } {
  const admin = kafkaAdmin({ brokers });
  return {
    kind: "kafka",
    topics,
    admin,
    async setup(partitions) {
      await admin.createTopics(
        topicList(topics).map((topic) => ({ topic, partitions })),
      );
    },
    source: (group, topic, maxInFlight) =>
      kafkaSource<Buffer>({
        brokers,
        group,
        topics: [topic],
        decode: (b) => b, // Avro is decoded by the job, which dead-letters a bad frame
        deadLetterTopic: topics.deadLetters,
        maxInFlight,
        commitIntervalMs: 500,
      }),
    sink: (topic) => kafkaSink<Buffer>({ brokers, topic, encode: (b) => b }),
    crash: (source) => (source as KafkaSource<Buffer>).abort(),
    async count(topic) {
      const offs = await admin.topicOffsets(topic);
      return offs.reduce((n, o) => n + (o.high - o.low), 0);
    },
    async teardown(groups) {
      try {
        if (keep) return;
        await admin.deleteTopics(topicList(topics));
        // Clean-up only, as the other stack fixtures do: a group a member has not left yet
        // (NON_EMPTY_GROUP) is left to the broker's group expiry.
        await admin.deleteGroups(groups).catch(() => undefined);
      } finally {
        await admin.close();
      }
    },
  };
}
