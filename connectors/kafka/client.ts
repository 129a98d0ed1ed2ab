import type { TopicPartition } from "../types.js";

/**
 * The one internal interface both Kafka drivers implement (STYLE.md habit 3). Nothing in
 * this file names a driver type: `clients/kafkajs.ts` and `clients/confluent.ts` adapt
 * their driver to it, and the source, sink and admin only ever see these shapes.
 * @internal
 */
export interface KafkaClient {
  readonly kind: KafkaClientKind;
  consumer(config: ConsumerConfig): KafkaConsumerClient;
  producer(config: ProducerConfig): KafkaProducerClient;
  admin(): KafkaAdminClient;
}

/** Which driver runs underneath. */
export type KafkaClientKind = "kafkajs" | "confluent";

/** Where and how to connect, shared by every client of a connector. @internal */
export interface ConnectionConfig {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly connectionTimeoutMs: number;
  readonly requestTimeoutMs: number;
  /** Driver log output: `"error"` keeps the drivers quiet except for errors. */
  readonly logLevel: "nothing" | "error" | "warn" | "info" | "debug";
  /** How long a broker outage is retried before a call or the consumer's rejoin gives up. */
  readonly outageDeadlineMs: number;
}

/** @internal */
export interface ConsumerConfig {
  readonly groupId: string;
  /** Where a group with no commit starts. */
  readonly fromBeginning: boolean;
  readonly sessionTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  readonly rebalanceTimeoutMs: number;
  readonly maxWaitTimeMs: number;
  /** Most records handed over per batch where the driver lets us choose (confluent). */
  readonly maxBatchSize: number;
  /** Most bytes per partition and per fetch; `undefined` leaves the driver's default. */
  readonly maxBytesPerPartition?: number | undefined;
  readonly maxBytes?: number | undefined;
}

/** @internal */
export interface ProducerConfig {
  readonly idempotent: boolean;
  /** Requests in flight per broker connection; ≤ 5 with idempotence. */
  readonly maxInFlightRequests: number;
  readonly lingerMs: number;
  readonly compression: "none" | "gzip";
}

/** A record as fetched, driver-neutral: offsets are numbers, headers strings. @internal */
export interface FetchedMessage {
  readonly offset: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly timestamp: number;
  readonly headers: { readonly [name: string]: string };
}

/** A fetched run of one partition, handed to {@link ConsumerHooks.onBatch}. @internal */
export interface FetchedBatch {
  readonly topic: string;
  readonly partition: number;
  readonly messages: readonly FetchedMessage[];
  /**
   * The partition's high watermark when the batch was fetched (the offset the next record
   * written will get), where the driver tells it: the source's lag is `highWatermark` minus
   * its next offset.
   */
  readonly highWatermark?: number;
  /**
   * Marks the batch consumed up to `offset` (inclusive). What is not resolved when the
   * handler returns is fetched again; resolving never commits.
   */
  resolve(offset: number): void;
  /**
   * True when a seek issued after this batch was fetched makes it stale: its records come
   * from before the seek and must be handed back unresolved (the driver fetches from the
   * seek position instead).
   */
  isStale(): boolean;
}

/** Where a seek goes: an offset, or the partition's first or next-to-be-written offset. @internal */
export type SeekTarget = number | "earliest" | "latest";

/** What a consumer tells its source. @internal */
export interface ConsumerHooks {
  /** Emits what fits and resolves it; must not wait for records to settle. */
  onBatch(batch: FetchedBatch): Promise<void>;
  /**
   * Partitions were assigned. Called before the driver's first fetch for them where the
   * driver allows (confluent: inside `rebalance_cb`, before it assigns; kafkajs: no batch
   * of them is handed over before this is called, but kafkajs may have fetched already).
   * The client awaits the returned promise before it assigns where its driver allows
   * (confluent), so a seek made meanwhile becomes the partitions' start offset.
   */
  onAssigned(partitions: readonly TopicPartition[]): Promise<void>;
  /**
   * Partitions are being taken away: stop intake, drain (bounded), commit. The client
   * waits for the returned promise where its driver allows (see each client's notes).
   */
  onRevoking(partitions: readonly TopicPartition[]): Promise<void>;
  /** The driver gave up (it will not restart by itself). */
  onFatal(error: unknown): void;
}

/** An offset to commit: the next offset to read. @internal */
export interface OffsetCommit {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

/** @internal */
export interface KafkaConsumerClient {
  connect(): Promise<void>;
  /** Subscribes and starts fetching; resolves once the fetch loop runs. */
  run(topics: readonly string[], hooks: ConsumerHooks): Promise<void>;
  pause(partitions: readonly TopicPartition[]): void;
  resume(partitions: readonly TopicPartition[]): void;
  commit(offsets: readonly OffsetCommit[]): Promise<void>;
  /**
   * Moves an assigned partition's fetch position. Batches fetched before it report
   * `isStale()`; records fetched from the seek position come next.
   */
  seek(partition: TopicPartition, offset: SeekTarget): void;
  disconnect(): Promise<void>;
}

/** A record to produce, driver-neutral. @internal */
export interface ProducedMessage {
  readonly topic: string;
  readonly key: Buffer | string | null;
  readonly value: Buffer;
  readonly headers?: { readonly [name: string]: string };
  readonly partition?: number;
  readonly timestamp?: number;
}

/** @internal */
export interface KafkaProducerClient {
  connect(): Promise<void>;
  /** Sends with acks=all; resolves when every message is acknowledged. */
  send(messages: readonly ProducedMessage[]): Promise<void>;
  flush(): Promise<void>;
  disconnect(): Promise<void>;
}

/** One topic to create. @internal */
export interface TopicSpec {
  readonly topic: string;
  readonly partitions: number;
  readonly replicationFactor: number;
  readonly config: { readonly [name: string]: string };
}

/** Offsets of one partition: `low` is the first readable, `high` the next to be written. @internal */
export interface PartitionOffsets {
  readonly partition: number;
  readonly low: number;
  readonly high: number;
}

/** @internal */
export interface KafkaAdminClient {
  connect(): Promise<void>;
  /** Creates the topics that do not exist; existing ones are left as they are. */
  createTopics(topics: readonly TopicSpec[]): Promise<void>;
  deleteTopics(topics: readonly string[]): Promise<void>;
  topicOffsets(topic: string): Promise<readonly PartitionOffsets[]>;
  /** Committed offsets of `group` on `topic`; `undefined` where nothing is committed. */
  groupOffsets(
    group: string,
    topic: string,
  ): Promise<readonly { partition: number; offset: number | undefined }[]>;
  deleteGroups(groups: readonly string[]): Promise<void>;
  disconnect(): Promise<void>;
}
