import { asyncScheduler } from "rxjs";
import type { CommitTrackerSnapshot } from "../../operators/commit-tracker.js";
import type { SluiceError } from "../../operators/sluice-error.js";
import { PartitionedSource } from "../internal/intake.js";
import { tpKey } from "../internal/partition-key.js";
import type { TopicPartition } from "../types.js";
import type { PartitionLagSample } from "../metrics.js";
import type {
  FetchedBatch,
  KafkaConsumerClient,
  KafkaProducerClient,
  SeekTarget,
} from "./client.js";
import { toKafkaError } from "./classify.js";
import { OffsetCommitter } from "./source-commit.js";
import { KafkaDelivery } from "./source-deliver.js";
import { closedError } from "./errors.js";
import {
  kafkaPartition,
  lagSamples,
  mayHaveBacklog,
  oldestUnsettledOffset,
  passesFence,
  sourceClients,
  syncClientPauses,
  trackBatches,
} from "./source-state.js";
import type { PartitionState } from "./source-state.js";
import { KafkaSourceMetrics } from "./metrics.js";
import { resolveKafkaSourceOptions } from "./options.js";
import type {
  KafkaSourceOptions,
  ResolvedKafkaSourceOptions,
} from "./options.js";

/** Longest a batch handler waits for room before handing its batch back. */
const HELD_WAIT_MS = 250;

/**
 * The Kafka connector's source: one consumer-group member, kafkajs or confluent underneath,
 * on the shared intake core (`connectors/internal/intake.ts`). Build it with {@link kafkaSource}.
 */
export class KafkaSource<T> extends PartitionedSource<T, PartitionState<T>> {
  readonly metrics = new KafkaSourceMetrics();
  private readonly options: ResolvedKafkaSourceOptions<T>;
  private consumer: KafkaConsumerClient | undefined;
  private deadLetters: KafkaProducerClient | undefined;
  private connecting: Promise<void> | undefined;
  private running: Promise<void> | undefined;
  /** Partitions the client has paused, by key. */
  private readonly clientPaused = new Map<string, TopicPartition>();
  private readonly committer: OffsetCommitter<T>;
  private readonly delivery: KafkaDelivery<T>;
  private aborted = false;

  constructor(options: KafkaSourceOptions<T>) {
    const resolved = resolveKafkaSourceOptions(options);
    super(resolved, asyncScheduler);
    this.options = resolved;
    this.committer = new OffsetCommitter<T>(
      this.name,
      () => this.consumer,
      this.metrics,
    );
    this.delivery = new KafkaDelivery<T>({
      options: resolved,
      metrics: this.metrics,
      subscriber: () => this.subscriber,
      fail: (error) => this.fatal(error),
      closing: () => this.closing !== undefined,
      deadLetters: () => this.deadLetters,
      originOf: this.originOf,
      emitted: (ps, n) => this.emitted(ps, n),
      settledOne: (ps) => this.settledOne(ps),
      later: (delayMs, run) => this.later(delayMs, run),
    });
  }

  connect(): Promise<void> {
    if (this.closing !== undefined)
      return Promise.reject(closedError(this.name));
    this.connecting ??= this.open();
    return this.connecting;
  }

  /**
   * Records between the position and the high watermark of the latest fetched batch, per
   * owned partition that fetched anything (`sluice_consumer_lag` of the runtime).
   *
   * @example
   * ```ts
   * source.lag(); // [{ topic: "orders", partition: 0, lag: 1200 }]
   * ```
   */
  lag(): readonly PartitionLagSample[] {
    return lagSamples(this.partitions.values());
  }

  /**
   * Whether this source has emitted every record of an owned partition up to the high
   * watermark of its latest fetched batch (no lag as far as it knows); `undefined` for a
   * partition it does not own or has fetched nothing of yet. For
   * `withWatermarks({ isCaughtUp })`: a silent partition with a backlog is not idle. Records
   * written after the latest fetch are unknown until the next one.
   *
   * @example
   * ```ts
   * withWatermarks({ maxOutOfOrdernessMs: 5_000, idleTimeoutMs: 10_000, isCaughtUp: (tp) => source.isCaughtUp(tp) });
   * ```
   */
  isCaughtUp(tp: TopicPartition): boolean | undefined {
    const ps = this.partitions.get(tpKey(tp.topic, tp.partition));
    if (ps === undefined || ps.dropped || ps.highWatermark === undefined)
      return undefined;
    return ps.nextOffset !== undefined && ps.nextOffset >= ps.highWatermark;
  }

  /**
   * For tests of crash recovery: drops the member as a killed process would, without drain,
   * `beforeRelease` hooks, commit or completing `records()`, then disconnects (the group
   * sees the member leave). Use `close()` everywhere else.
   * @internal
   */
  abort(): Promise<void> {
    this.aborted = true;
    this.closing ??= this.dropEverything();
    return this.closing;
  }

  /*
   * Restore: the consumer seeks to `committed` (or the `startFrom` end), ignoring the group's
   * commit; batches fetched before the seek are handed back unresolved (`passesFence`).
   * beforeRelease hooks run inside `rebalance_cb` with confluent; with kafkajs, which does not
   * wait for a revoke, before the late commit (README).
   */
  protected override restored(
    ps: PartitionState<T>,
    s: CommitTrackerSnapshot,
  ): void {
    ps.nextOffset = s.committed;
    ps.skipUntil = s.doneAbove.reduce((m, [, to]) => Math.max(m, to), -1);
    const target = s.committed ?? this.options.startFrom;
    ps.fence = { target, rejected: 0 };
    ps.restored = true;
    this.consumer?.seek(ps.tp, target);
  }

  protected override startIntake(): Promise<void> {
    return this.connect().then(() => this.start());
  }

  protected override startError(error: unknown): SluiceError {
    return toKafkaError(error, `${this.name}: cannot start`, {
      stage: "source",
    });
  }

  protected override intakeChanged(): void {
    this.syncPause();
  }

  protected override oldestUnsettled(
    ps: PartitionState<T>,
  ): number | undefined {
    return oldestUnsettledOffset(ps);
  }

  protected override holdsRecords(ps: PartitionState<T>): boolean {
    return ps.batches.size > 0;
  }

  protected override hasBacklog(ps: PartitionState<T>): boolean {
    return mayHaveBacklog(ps, Date.now());
  }

  protected override commitStates(
    states: readonly PartitionState<T>[],
    final: boolean,
  ): Promise<void> {
    if (!final) return this.committer.commit(states);
    return this.committer.commitWithRetry(
      states,
      Math.max(this.options.drainTimeoutMs, 2_000),
    );
  }

  protected override async settleStart(): Promise<boolean> {
    // A failed connect or start leaves nothing in flight: the drain ends at once.
    await Promise.allSettled([this.connecting, this.running]);
    return true;
  }

  protected override async disconnect(): Promise<void> {
    await Promise.allSettled([
      this.consumer?.disconnect(),
      this.deadLetters?.disconnect(),
    ]);
  }

  protected override lost(): boolean {
    return this.aborted;
  }

  protected override released(ps: PartitionState<T>): void {
    ps.batches.clear();
    this.clientPaused.delete(ps.key);
  }

  private async dropEverything(): Promise<void> {
    this.subscriber = undefined;
    this.timers.unsubscribe();
    for (const ps of [...this.partitions.values()]) this.release(ps);
    this.waiters.wake();
    await Promise.allSettled([this.connecting, this.running]);
    // Let the driver run the seeks it queued for batches handed back before the abort:
    // confluent runs them after its disconnect otherwise, and rejects unhandled.
    await new Promise((resolve) => setTimeout(resolve, 250));
    await this.disconnect();
    this.events.complete();
  }

  private async open(): Promise<void> {
    const { consumer, deadLetters } = sourceClients(this.options);
    this.consumer = consumer;
    this.deadLetters = deadLetters;
    await deadLetters?.connect();
    await consumer.connect();
  }

  private start(): Promise<void> {
    this.running ??= this.consumer!.run(this.options.topics, {
      onBatch: (batch) => this.intake(batch),
      onAssigned: (partitions) => this.assigned(partitions),
      onRevoking: (partitions) => this.revoke(partitions),
      onFatal: (error) => this.fatal(error),
    }).then(() => this.startCommitTimer());
    return this.running;
  }

  /** Ends the record stream: the consumer stopped, or a decode error under `"fail"`. */
  private fatal(error: unknown): void {
    const subscriber = this.subscriber;
    this.subscriber = undefined;
    subscriber?.error(
      toKafkaError(error, `${this.name}: consumer stopped`, {
        stage: "source",
      }),
    );
  }

  /**
   * Emits `assigned` for the new partitions, then waits (bounded) until each is restored or
   * not paused: a job that pauses a partition in the event restores it first. Confluent
   * awaits this before it assigns, so the restore's seek becomes the start offset.
   */
  private assigned(partitions: readonly TopicPartition[]): Promise<void> {
    if (this.aborted) return Promise.resolve();
    const now = Date.now();
    const fresh = this.adopt(
      partitions.map((tp) => kafkaPartition<T>(tp, now)),
    );
    return this.drain(
      () =>
        fresh.every(
          (ps) => ps.restored || ps.dropped || !this.pauses.has(ps.key),
        ),
      Math.min(this.options.rebalanceTimeoutMs / 2, 10_000),
    );
  }

  /** Client-pauses exactly the owned partitions that must not fetch now. */
  private syncPause(): void {
    if (this.consumer !== undefined)
      syncClientPauses(
        this.consumer,
        this.partitions.values(),
        this.clientPaused,
        (ps) => this.blocked(ps),
      );
  }

  /**
   * Emits what fits of a fetched batch and resolves exactly that; the rest is fetched again.
   * While records settle as fast as they are emitted (room frees up during the emit), the
   * rest of the same batch is taken at once, in chunks that fit, each checked like a new
   * batch: handing it back would make the driver fetch and parse it again (kafkajs fetches
   * up to 8 MiB per partition by default, many times `maxInFlight`).
   */
  private intake(batch: FetchedBatch): Promise<void> {
    for (;;) {
      const more = this.intakeChunk(batch);
      if (more !== true) return more;
    }
  }

  /** One chunk of {@link intake}: `true` when more of `batch` can be taken right away. */
  private intakeChunk(batch: FetchedBatch): Promise<void> | true {
    const lastSeen = batch.messages[batch.messages.length - 1];
    if (this.closing !== undefined) {
      // Never emitted, never committed (commits come from the trackers only). Resolving
      // spares confluent a seek back that it would run after its disconnect, and reject.
      if (lastSeen !== undefined) batch.resolve(lastSeen.offset);
      return Promise.resolve();
    }
    const ps = this.partitions.get(tpKey(batch.topic, batch.partition));
    const hw = batch.highWatermark;
    if (
      ps !== undefined &&
      hw !== undefined &&
      (ps.highWatermark === undefined || hw > ps.highWatermark)
    )
      ps.highWatermark = hw;
    if (ps === undefined || ps.dropped || this.blocked(ps)) {
      // Handed back: confluent seeks back to this batch, which must not undo a restore.
      if (ps?.fence !== undefined && !ps.dropped && !batch.isStale())
        this.consumer?.seek(ps.tp, ps.fence.target);
      this.syncPause();
      return ps !== undefined && this.held(ps)
        ? this.waitForRoom(ps)
        : Promise.resolve();
    }
    const seek = (tp: TopicPartition, target: SeekTarget): void =>
      this.consumer?.seek(tp, target);
    if (ps.fence !== undefined && !passesFence(ps, batch, seek))
      return Promise.resolve();
    const next = ps.nextOffset;
    // Offsets rise within a partition's batch: a first offset at or above `next` means all.
    const fresh =
      next === undefined || (batch.messages[0]?.offset ?? next) >= next
        ? batch.messages
        : batch.messages.filter((m) => m.offset >= next);
    const room = this.room(ps);
    const take = room >= fresh.length ? fresh : fresh.slice(0, room);
    if (take.length === 0) {
      if (fresh.length === 0 && lastSeen !== undefined)
        batch.resolve(lastSeen.offset);
      if (fresh.length === 0) return Promise.resolve();
      // The pool above this partition's share is used up.
      this.backpressured = true;
      this.syncPause();
      return this.waitForRoom(ps);
    }
    const last = take[take.length - 1]!.offset;
    const states = trackBatches(ps, take, this.delivery.onSettled);
    for (const state of states) ps.batches.add(state);
    ps.nextOffset = last + 1;
    batch.resolve(last);
    for (const state of states) this.delivery.deliver(state, undefined);
    if (this.blocked(ps)) {
      this.syncPause();
      return Promise.resolve();
    }
    if (take.length < fresh.length && !ps.dropped) return true;
    return Promise.resolve();
  }

  /** True while `ps` waits for room: backpressure, its cap, pause() of all, no subscriber. */
  private held(ps: PartitionState<T>): boolean {
    return (
      this.closing === undefined &&
      (this.subscriber === undefined ||
        this.pauses.allPaused ||
        ps.capped ||
        (this.backpressured && ps.inFlight >= this.share))
    );
  }

  /**
   * A handler that could take nothing waits a little for room before handing the batch
   * back, so a driver that refetches it (confluent does not pause) does not spin.
   */
  private waitForRoom(ps: PartitionState<T>): Promise<void> {
    return this.drain(() => !this.held(ps), HELD_WAIT_MS);
  }
}

/**
 * A {@link Source} over Kafka topics: one consumer-group member that emits decoded records
 * with ack handles from a commit tracker per partition (one handle per fetched batch),
 * commits only what is done (periodically, on revoke and on close; auto-commit is off),
 * pauses partitions at `maxInFlight` unsettled records and resumes at `lowWatermark`,
 * redelivers nacked records, and sends undecodable bytes to a dead-letter topic.
 *
 * @example
 * ```ts
 * const source = kafkaSource<Order>({
 *   brokers: ["127.0.0.1:9092"], client: "confluent", group: "billing", topics: ["orders"],
 *   decode: (bytes) => orderCodec.decode(bytes), deadLetterTopic: "orders.dlq",
 * });
 * source.records().subscribe((r) => { bill(r.value); r.ack.ack(); });
 * await source.close(); // drains, commits, leaves the group
 * ```
 */
export function kafkaSource<T>(options: KafkaSourceOptions<T>): KafkaSource<T> {
  return new KafkaSource<T>(options);
}
