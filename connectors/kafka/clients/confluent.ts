import confluent from "@confluentinc/kafka-javascript";
import type { KafkaJS } from "@confluentinc/kafka-javascript";
import type { TopicPartition } from "../../types.js";
import type {
  ConnectionConfig,
  ConsumerConfig,
  ConsumerHooks,
  KafkaAdminClient,
  KafkaClient,
  KafkaConsumerClient,
  KafkaProducerClient,
  OffsetCommit,
  ProducedMessage,
  ProducerConfig,
  SeekTarget,
  TopicSpec,
} from "../client.js";
import { classifyKafkaError } from "../classify.js";
import { CLOSE_DEADLINE_MS, withinDeadline } from "../../internal/deadline.js";
import { KafkaJsCompatibleAdminClient, topicConfigs } from "./compat-admin.js";
import { fetchedBatch } from "./compat-batch.js";
import { byTopic } from "./headers.js";

const { KafkaJS: K } = confluent;

/** librdkafka's rebalance event codes (`rd_kafka_resp_err_t`). */
const ASSIGN_PARTITIONS = -175;
const REVOKE_PARTITIONS = -174;

const LEVELS = {
  nothing: K.logLevel.NOTHING,
  error: K.logLevel.ERROR,
  warn: K.logLevel.WARN,
  info: K.logLevel.INFO,
  debug: K.logLevel.DEBUG,
} as const;

/**
 * @confluentinc/kafka-javascript (librdkafka) behind {@link KafkaClient}, through its
 * KafkaJS-compatible API.
 *
 * Revoke: the driver calls our `rebalance_cb` and awaits it before it unassigns (eager
 * protocol); librdkafka holds the rebalance until then, up to `rebalanceTimeoutMs` (which
 * is also the max poll interval). So the source stops intake, drains (bounded by its
 * `drainTimeoutMs`) and commits while it still owns the partitions, and the next owner
 * starts from that commit: the clean hand-over the contract asks for. The source's
 * `beforeRelease` hooks run inside the callback too, after the drain and before the commit.
 *
 * Assign: `rebalance_cb` calls `onAssigned` and awaits it before it assigns, so the job
 * pauses and restores new partitions before their first fetch; a `seek` made meanwhile
 * (a restore) is handed to the driver as the partition's start offset in the assignment,
 * so nothing is fetched from the group's commit at all. A seek after the assignment goes
 * through the driver's `seek`, which marks batches fetched before it stale.
 */
export class ConfluentClient implements KafkaClient {
  readonly kind = "confluent" as const;
  private readonly kafka: KafkaJS.Kafka;

  constructor(private readonly config: ConnectionConfig) {
    this.kafka = new K.Kafka({
      kafkaJS: {
        brokers: [...config.brokers],
        clientId: config.clientId,
        connectionTimeout: config.connectionTimeoutMs,
        requestTimeout: config.requestTimeoutMs,
        logLevel: LEVELS[config.logLevel],
      },
    });
  }

  consumer(config: ConsumerConfig): KafkaConsumerClient {
    return new ConfluentConsumer(this.kafka, this.config, config);
  }

  producer(config: ProducerConfig): KafkaProducerClient {
    return new ConfluentProducer(this.kafka, config);
  }

  admin(): KafkaAdminClient {
    return new ConfluentAdmin(this.kafka.admin());
  }
}

type Assignment = readonly { topic: string; partition: number }[];

/** librdkafka's logical offsets for an assignment. */
const OFFSET_BEGINNING = -2;
const OFFSET_END = -1;

const keyOf = (tp: TopicPartition): string =>
  `${tp.topic}\u0000${tp.partition}`;

class ConfluentConsumer implements KafkaConsumerClient {
  private consumer: KafkaJS.Consumer | undefined;
  private hooks: ConsumerHooks | undefined;
  /** Seeks asked for while `rebalance_cb` assigns, by partition: they become start offsets. */
  private assigning: Map<string, SeekTarget> | undefined;

  constructor(
    private readonly kafka: KafkaJS.Kafka,
    private readonly connection: ConnectionConfig,
    private readonly config: ConsumerConfig,
  ) {}

  private create(): KafkaJS.Consumer {
    const rebalance = async (
      err: { code: number },
      assignment: Assignment,
    ): Promise<
      { topic: string; partition: number; offset?: number }[] | undefined
    > => {
      const hooks = this.hooks;
      if (hooks === undefined) return undefined;
      const tps: TopicPartition[] = assignment.map((a) => ({
        topic: a.topic,
        partition: a.partition,
      }));
      if (err.code === ASSIGN_PARTITIONS) {
        const seeks = new Map<string, SeekTarget>();
        this.assigning = seeks;
        try {
          await hooks.onAssigned(tps);
        } finally {
          this.assigning = undefined;
        }
        if (seeks.size === 0) return undefined;
        // Returned to the driver, this is the assignment it makes: each restored partition
        // starts at its checkpoint, the others at the group's commit.
        return tps.map((tp) => {
          const target = seeks.get(keyOf(tp));
          if (target === undefined) return { ...tp };
          const offset =
            target === "earliest"
              ? OFFSET_BEGINNING
              : target === "latest"
                ? OFFSET_END
                : target;
          return { ...tp, offset };
        });
      }
      if (err.code === REVOKE_PARTITIONS) await hooks.onRevoking(tps);
      return undefined;
    };
    return this.kafka.consumer({
      kafkaJS: {
        groupId: this.config.groupId,
        fromBeginning: this.config.fromBeginning,
        autoCommit: false,
        sessionTimeout: this.config.sessionTimeoutMs,
        heartbeatInterval: this.config.heartbeatIntervalMs,
        rebalanceTimeout: this.config.rebalanceTimeoutMs,
        maxWaitTimeInMs: this.config.maxWaitTimeMs,
        allowAutoTopicCreation: false,
        logLevel: LEVELS[this.connection.logLevel],
      },
      "js.consumer.max.batch.size": this.config.maxBatchSize,
      ...(this.config.maxBytesPerPartition === undefined
        ? {}
        : { "max.partition.fetch.bytes": this.config.maxBytesPerPartition }),
      ...(this.config.maxBytes === undefined
        ? {}
        : { "fetch.max.bytes": this.config.maxBytes }),
      rebalance_cb: rebalance,
    });
  }

  async connect(): Promise<void> {
    this.consumer ??= this.create();
    await this.consumer.connect();
  }

  async run(topics: readonly string[], hooks: ConsumerHooks): Promise<void> {
    const consumer = this.consumer!;
    this.hooks = hooks;
    await consumer.subscribe({ topics: [...topics] });
    await consumer.run({
      eachBatchAutoResolve: false,
      eachBatch: async (payload) => {
        await hooks.onBatch(fetchedBatch(payload));
      },
    });
  }

  /**
   * Deliberately no driver pause. Measured on 1.10.1: pausing a partition from inside
   * `eachBatch` after a partial resolve, then resuming it, left the partition silent (the
   * driver's stale-cache seek and our resolve race), and a partition paused before its
   * first hand-over lost its cached messages until the next rebalance. The source gates
   * intake itself: a batch it cannot take is handed back unresolved and the driver seeks
   * back to it, and while the whole source is held the handler waits (bounded) for room,
   * so the refetch does not spin.
   */
  pause(_partitions: readonly TopicPartition[]): void {
    // See above.
  }

  resume(_partitions: readonly TopicPartition[]): void {
    // See pause().
  }

  async commit(offsets: readonly OffsetCommit[]): Promise<void> {
    await this.consumer!.commitOffsets(
      offsets.map((o) => ({
        topic: o.topic,
        partition: o.partition,
        offset: String(o.offset),
      })),
    );
  }

  seek(partition: TopicPartition, offset: SeekTarget): void {
    if (this.assigning !== undefined) {
      this.assigning.set(keyOf(partition), offset);
      return;
    }
    // The driver's seek takes no "latest" (it refuses -1): such a partition goes on from
    // the driver's position. Earliest is librdkafka's OFFSET_BEGINNING.
    if (offset === "latest") return;
    this.consumer!.seek({
      topic: partition.topic,
      partition: partition.partition,
      offset: String(offset === "earliest" ? OFFSET_BEGINNING : offset),
    });
  }

  async disconnect(): Promise<void> {
    if (this.consumer === undefined) return;
    await withinDeadline(
      this.consumer.disconnect(),
      CLOSE_DEADLINE_MS,
      "kafka consumer disconnect",
    );
  }
}

class ConfluentProducer implements KafkaProducerClient {
  private readonly producer: KafkaJS.Producer;
  constructor(kafka: KafkaJS.Kafka, config: ProducerConfig) {
    this.producer = kafka.producer({
      kafkaJS: {
        idempotent: config.idempotent,
        maxInFlightRequests: config.maxInFlightRequests,
        acks: -1,
        allowAutoTopicCreation: false,
        compression:
          config.compression === "gzip"
            ? K.CompressionTypes.GZIP
            : K.CompressionTypes.None,
      },
      "linger.ms": config.lingerMs,
      // Java-compatible key hashing: a key lands on the same partition as with kafkajs.
      partitioner: "murmur2_random",
    });
  }

  connect(): Promise<void> {
    return this.producer.connect();
  }

  async send(messages: readonly ProducedMessage[]): Promise<void> {
    if (messages.length === 0) return;
    await this.producer.sendBatch({
      topicMessages: byTopic(messages).map(([topic, ms]) => ({
        topic,
        messages: ms.map((m) => ({
          key: m.key,
          value: m.value,
          ...(m.headers !== undefined ? { headers: { ...m.headers } } : {}),
          ...(m.partition !== undefined ? { partition: m.partition } : {}),
          ...(m.timestamp !== undefined
            ? { timestamp: String(m.timestamp) }
            : {}),
        })),
      })),
    });
  }

  async flush(): Promise<void> {
    await this.producer.flush({ timeout: 30_000 });
  }

  disconnect(): Promise<void> {
    return withinDeadline(
      this.producer.disconnect(),
      CLOSE_DEADLINE_MS,
      "kafka producer disconnect",
    );
  }
}

class ConfluentAdmin extends KafkaJsCompatibleAdminClient<KafkaJS.Admin> {
  override async createTopics(topics: readonly TopicSpec[]): Promise<void> {
    const existing = new Set(await this.admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t.topic));
    if (missing.length === 0) return;
    try {
      await this.admin.createTopics({ topics: topicConfigs(missing) });
    } catch (error) {
      // Created meanwhile by someone else: that is what we wanted.
      if (classifyKafkaError(error).code !== "CONFLICT") throw error;
    }
  }
}
