import kafkajs from "kafkajs";
import type {
  Admin,
  Consumer,
  ConsumerRunConfig,
  EachBatchPayload,
  Kafka,
  Producer,
} from "kafkajs";
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
import { KafkaJsCompatibleAdminClient, topicConfigs } from "./compat-admin.js";
import { fetchedBatch } from "./compat-batch.js";
import { byTopic, groupByTopic } from "./headers.js";
import { CLOSE_DEADLINE_MS, withinDeadline } from "../../internal/deadline.js";
import { retryUntilDeadline } from "../../internal/retry.js";
import { classifyKafkaError, toKafkaError } from "../classify.js";

const { Kafka: KafkaCtor, logLevel, PartitionAssigners } = kafkajs;

/** kafkajs' own retries of one request (a few seconds); outages past them are ours to wait out. */
const RETRY = { retries: 8, initialRetryTime: 100, maxRetryTime: 5_000 };

const LEVELS = {
  nothing: logLevel.NOTHING,
  error: logLevel.ERROR,
  warn: logLevel.WARN,
  info: logLevel.INFO,
  debug: logLevel.DEBUG,
} as const;

/**
 * kafkajs behind {@link KafkaClient}.
 *
 * Revoke: kafkajs has no revoke callback and its group protocol is eager. On `REBALANCING`
 * every owned partition is revoked (`onRevoking`: intake stops, the job is told, the drain
 * starts), but kafkajs rejoins at once without waiting: only a batch handler already
 * running is awaited. A leader cannot hold the assignment to commit either: once the join
 * answers, the group is completing its rebalance and the broker refuses commits with
 * REBALANCE_IN_PROGRESS. So the drained offsets are committed when the drain ends, retried
 * until the new generation accepts them, and a new owner that fetched earlier sees those
 * records again: at-least-once, never lost. Records settled before the rebalance are
 * committed by the periodic commit as usual. The source's `beforeRelease` hooks run after
 * the drain and before that commit, so a revoke checkpoint may be written after the new
 * owner has restored the previous one (each checkpoint is a consistent cut, so the new
 * owner replays more, but counts nothing twice).
 *
 * Assign: kafkajs emits `GROUP_JOIN` and starts fetching without waiting for us, so the
 * first fetch of a new partition may be issued before the job has paused it. No batch is
 * handed to the source before `onAssigned` ran (batches wait for the same chain), a batch of
 * a paused partition is handed back unresolved, and after a `seek` (a restore) kafkajs
 * marks batches fetched before it stale (`isStale()`), which the source hands back too: a
 * record fetched before the restore is never emitted.
 */
export class KafkaJsClient implements KafkaClient {
  readonly kind = "kafkajs" as const;
  private readonly kafka: Kafka;

  constructor(private readonly connection: ConnectionConfig) {
    const config = connection;
    this.kafka = new KafkaCtor({
      brokers: [...config.brokers],
      clientId: config.clientId,
      connectionTimeout: config.connectionTimeoutMs,
      requestTimeout: config.requestTimeoutMs,
      logLevel: LEVELS[config.logLevel],
      retry: RETRY,
    });
  }

  consumer(config: ConsumerConfig): KafkaConsumerClient {
    return new KafkaJsConsumer(this.kafka, config, this.connection);
  }

  producer(config: ProducerConfig): KafkaProducerClient {
    return new KafkaJsProducer(this.kafka, config);
  }

  admin(): KafkaAdminClient {
    return new KafkaJsAdmin(this.kafka.admin());
  }
}

/**
 * Crashes: kafkajs stops its consumer on an error it cannot retry by itself (`Failed to find
 * group coordinator` while a broker restarts, its request retries spent) and, by default,
 * restarts itself on retriable ones without any deadline. Here kafkajs never restarts
 * (`restartOnFailure` answers false): on a crash whose error classify.ts calls retryable,
 * the partitions owned are revoked (the source drains and checkpoints them: the group has
 * dropped this member), and the consumer rejoins with backoff until `outageDeadlineMs`
 * (connectors/internal/retry.ts, listed as an outage for readiness meanwhile); a rejoin
 * attempt succeeds at its group join and fails at its own crash. Past the deadline, or on a
 * non-retryable crash, `onFatal`. After `disconnect()` nothing restarts: a crash during
 * shutdown used to let kafkajs start a new consumer behind the closed source, which kept the
 * process alive with a socket open after it logged `stopped`.
 */
class KafkaJsConsumer implements KafkaConsumerClient {
  private readonly consumer: Consumer;
  private hooks: ConsumerHooks | undefined;
  private owned: TopicPartition[] = [];
  /** The revoke in progress: the leader's assignment and new batches wait for it. */
  private revoking: Promise<void> = Promise.resolve();
  private runConfig: ConsumerRunConfig | undefined;
  /** The rejoin attempt waiting for its group join (or its crash). */
  private joining:
    { resolve: () => void; reject: (error: unknown) => void } | undefined;
  private restarting: Promise<void> | undefined;
  private readonly stopped = new AbortController();

  constructor(
    kafka: Kafka,
    private readonly config: ConsumerConfig,
    private readonly connection: ConnectionConfig,
  ) {
    this.consumer = kafka.consumer({
      // A few seconds of kafkajs' own retries, then a crash that this client waits out
      // visibly (an outage: readiness false) and with a deadline.
      retry: {
        retries: 5,
        initialRetryTime: 100,
        maxRetryTime: 1_000,
        restartOnFailure: () => Promise.resolve(false),
      },
      groupId: config.groupId,
      sessionTimeout: config.sessionTimeoutMs,
      heartbeatInterval: config.heartbeatIntervalMs,
      rebalanceTimeout: config.rebalanceTimeoutMs,
      maxWaitTimeInMs: config.maxWaitTimeMs,
      ...(config.maxBytesPerPartition === undefined
        ? {}
        : { maxBytesPerPartition: config.maxBytesPerPartition }),
      ...(config.maxBytes === undefined ? {} : { maxBytes: config.maxBytes }),
      allowAutoTopicCreation: false,
      partitionAssigners: [PartitionAssigners.roundRobin],
    });
    const { GROUP_JOIN, REBALANCING, CRASH } = this.consumer.events;
    this.consumer.on(REBALANCING, () => {
      const partitions = this.owned;
      this.owned = [];
      if (partitions.length === 0 || this.hooks === undefined) return;
      const hooks = this.hooks;
      this.revoking = this.revoking
        .then(() => hooks.onRevoking(partitions))
        .catch(() => undefined);
    });
    this.consumer.on(GROUP_JOIN, (event) => {
      const assigned: TopicPartition[] = [];
      for (const [topic, partitions] of Object.entries(
        event.payload.memberAssignment,
      ))
        for (const partition of partitions) assigned.push({ topic, partition });
      // A rejoin without a REBALANCING event (a new generation after a crash) still
      // revokes what was owned before.
      const lost = this.owned.filter(
        (o) =>
          !assigned.some(
            (a) => a.topic === o.topic && a.partition === o.partition,
          ),
      );
      this.owned = assigned;
      const hooks = this.hooks;
      if (hooks === undefined) return;
      if (lost.length > 0)
        this.revoking = this.revoking
          .then(() => hooks.onRevoking(lost))
          .catch(() => undefined);
      // Not awaited: kafkajs fetches anyway, and a wait here would hold every batch.
      this.revoking = this.revoking.then(() => {
        hooks.onAssigned(assigned).catch(() => undefined);
      });
      const joining = this.joining;
      this.joining = undefined;
      joining?.resolve();
    });
    this.consumer.on(CRASH, (event) => this.crashed(event.payload.error));
  }

  connect(): Promise<void> {
    return this.consumer.connect();
  }

  async run(topics: readonly string[], hooks: ConsumerHooks): Promise<void> {
    this.hooks = hooks;
    await this.consumer.subscribe({
      topics: [...topics],
      fromBeginning: this.config.fromBeginning,
    });
    this.runConfig = {
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: async (payload: EachBatchPayload) => {
        await this.revoking;
        await hooks.onBatch(fetchedBatch(payload));
      },
    };
    await this.consumer.run(this.runConfig);
  }

  /** kafkajs stopped the consumer (it has disconnected already): rejoin or give up. */
  private crashed(error: unknown): void {
    const joining = this.joining;
    if (joining !== undefined) {
      this.joining = undefined;
      joining.reject(error); // a rejoin attempt failed: the retry loop goes on
      return;
    }
    if (this.stopped.signal.aborted || this.restarting !== undefined) return;
    const hooks = this.hooks;
    if (hooks === undefined) return;
    if (!classifyKafkaError(error).retryable) {
      hooks.onFatal(error);
      return;
    }
    // The group has dropped this member: what it owned is revoked (drained, checkpointed).
    const lost = this.owned;
    this.owned = [];
    if (lost.length > 0)
      this.revoking = this.revoking
        .then(() => hooks.onRevoking(lost))
        .catch(() => undefined);
    this.restarting = retryUntilDeadline(() => this.rejoin(), {
      what: `kafka consumer group ${this.config.groupId} on ${this.connection.brokers.join(",")}`,
      deadlineMs: this.connection.outageDeadlineMs,
      toError: (e) =>
        toKafkaError(e, `kafka consumer group ${this.config.groupId}`),
      initialBackoffMs: 250,
      signal: this.stopped.signal,
      alreadyFailed: error,
    }).then(
      () => {
        this.restarting = undefined;
      },
      (e: unknown) => {
        this.restarting = undefined;
        if (!this.stopped.signal.aborted) hooks.onFatal(e);
      },
    );
  }

  /** One rejoin: resolves at the group join, rejects at the crash of this attempt. */
  private rejoin(): Promise<void> {
    if (this.stopped.signal.aborted) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.joining = { resolve, reject };
      const fail = (error: unknown): void => {
        if (this.joining?.reject !== reject) return;
        this.joining = undefined;
        reject(
          toKafkaError(error, `kafka consumer group ${this.config.groupId}`),
        );
      };
      this.revoking
        .then(() => this.consumer.connect())
        .then(() => this.consumer.run(this.runConfig))
        .catch(fail);
    });
  }

  pause(partitions: readonly TopicPartition[]): void {
    if (partitions.length > 0) this.consumer.pause(groupByTopic(partitions));
  }

  resume(partitions: readonly TopicPartition[]): void {
    if (partitions.length > 0) this.consumer.resume(groupByTopic(partitions));
  }

  commit(offsets: readonly OffsetCommit[]): Promise<void> {
    return this.consumer.commitOffsets(
      offsets.map((o) => ({
        topic: o.topic,
        partition: o.partition,
        offset: String(o.offset),
      })),
    );
  }

  seek(partition: TopicPartition, offset: SeekTarget): void {
    this.consumer.seek({
      topic: partition.topic,
      partition: partition.partition,
      offset:
        offset === "earliest"
          ? "-2"
          : offset === "latest"
            ? "-1"
            : String(offset),
    });
  }

  async disconnect(): Promise<void> {
    this.stopped.abort();
    const joining = this.joining;
    this.joining = undefined;
    joining?.resolve();
    await this.restarting;
    await withinDeadline(
      this.consumer.disconnect(),
      CLOSE_DEADLINE_MS,
      `kafka consumer ${this.config.groupId} disconnect`,
    );
  }
}

class KafkaJsProducer implements KafkaProducerClient {
  private readonly producer: Producer;
  constructor(
    kafka: Kafka,
    private readonly config: ProducerConfig,
  ) {
    this.producer = kafka.producer({
      idempotent: config.idempotent,
      // kafkajs keeps per-partition order with idempotence only at one request in flight.
      maxInFlightRequests: config.idempotent ? 1 : config.maxInFlightRequests,
      allowAutoTopicCreation: false,
    });
  }

  connect(): Promise<void> {
    return this.producer.connect();
  }

  async send(messages: readonly ProducedMessage[]): Promise<void> {
    if (messages.length === 0) return;
    await this.producer.sendBatch({
      acks: -1,
      compression:
        this.config.compression === "gzip"
          ? kafkajs.CompressionTypes.GZIP
          : kafkajs.CompressionTypes.None,
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

  /** kafkajs sends each batch when asked: nothing is buffered. */
  flush(): Promise<void> {
    return Promise.resolve();
  }

  disconnect(): Promise<void> {
    return withinDeadline(
      this.producer.disconnect(),
      CLOSE_DEADLINE_MS,
      "kafka producer disconnect",
    );
  }
}

class KafkaJsAdmin extends KafkaJsCompatibleAdminClient<Admin> {
  override async createTopics(topics: readonly TopicSpec[]): Promise<void> {
    if (topics.length === 0) return;
    // Resolves false for topics that already exist: creation is idempotent.
    await this.admin.createTopics({
      waitForLeaders: true,
      topics: topicConfigs(topics),
    });
  }
}
