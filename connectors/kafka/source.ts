import { EMPTY, Observable, Subject, defer, startWith } from "rxjs";
import type { Subscriber } from "rxjs";
import { CommitTracker } from "../../operators/commit-tracker.js";
import type { CommitTrackerSnapshot } from "../../operators/commit-tracker.js";
import { linkedOrigins } from "../../operators/partition-owner.js";
import type { Record } from "../../operators/record.js";
import { SluiceError } from "../../operators/sluice-error.js";
import type { AssignmentEvent, Source, TopicPartition } from "../types.js";
import type { PartitionLagSample } from "../metrics.js";
import type {
  FetchedBatch,
  FetchedMessage,
  KafkaConsumerClient,
  KafkaProducerClient,
  SeekTarget,
} from "./client.js";
import { createKafkaClient } from "./clients/create.js";
import { toKafkaError } from "./classify.js";
import { deadLetterMessage } from "./dead-letter.js";
import { OffsetCommitter } from "./source-commit.js";
import { closedError, decodeError } from "./errors.js";
import { RecordAck } from "./source-state.js";
import { tpKey } from "../internal/partition-key.js";
import type { BatchState, PartitionState } from "./source-state.js";
import { KafkaSourceMetrics } from "./metrics.js";
import { resolveKafkaSourceOptions } from "./options.js";
import { SettleWaiters } from "../internal/settle-waiters.js";
import { oldestOf, reportUnsettled } from "../internal/unsettled.js";
import { UserPauses } from "../internal/user-pauses.js";
import type {
  KafkaSourceOptions,
  ResolvedKafkaSourceOptions,
} from "./options.js";

/** Longest a batch handler waits for room before handing its batch back. */
const HELD_WAIT_MS = 250;

/**
 * After a restore's seek, batches that start above the seek target are handed back and the
 * seek repeated this many times before one is taken: a batch fetched before the seek (from
 * a newer group commit) is gone by then, while a target no longer in the log (deleted by
 * retention, compacted) legitimately starts above it.
 */
const FENCE_RESEEKS = 3;

/**
 * The Kafka connector's source: one consumer-group member, kafkajs or confluent underneath.
 * Build it with {@link kafkaSource}.
 */
export class KafkaSource<T> implements Source<T> {
  readonly name: string;
  readonly metrics = new KafkaSourceMetrics();
  private readonly options: ResolvedKafkaSourceOptions<T>;
  private consumer: KafkaConsumerClient | undefined;
  private deadLetters: KafkaProducerClient | undefined;
  private connecting: Promise<void> | undefined;
  private running: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  private readonly partitions = new Map<string, PartitionState<T>>();
  private readonly pauses = new UserPauses();
  private backpressured = false;
  /** Partitions the client has paused, by key. */
  private readonly clientPaused = new Map<string, TopicPartition>();
  private subscriber: Subscriber<Record<T>> | undefined;
  private readonly events = new Subject<AssignmentEvent>();
  private inFlightCount = 0;
  private readonly waiters = new SettleWaiters();
  private commitTimer: NodeJS.Timeout | undefined;
  private readonly committer: OffsetCommitter<T>;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly releaseHooks = new Set<
    (partitions: readonly TopicPartition[]) => Promise<void>
  >();
  private aborted = false;
  /** Origins that link back to this source, for `withWatermarks` (see `ownerOf`). */
  private readonly originOf = linkedOrigins(this);

  constructor(options: KafkaSourceOptions<T>) {
    this.options = resolveKafkaSourceOptions(options);
    this.name = this.options.name;
    this.committer = new OffsetCommitter<T>(
      this.name,
      () => this.consumer,
      this.metrics,
    );
  }

  get inFlight(): number {
    return this.inFlightCount;
  }

  connect(): Promise<void> {
    if (this.closing !== undefined)
      return Promise.reject(closedError(this.name));
    this.connecting ??= this.open();
    return this.connecting;
  }

  records(): Observable<Record<T>> {
    return new Observable<Record<T>>((subscriber) => {
      if (this.closing !== undefined) {
        subscriber.complete();
        return undefined;
      }
      if (this.subscriber !== undefined) {
        subscriber.error(
          new SluiceError(
            "CONFLICT",
            `${this.name}: records() already has a subscriber`,
          ),
        );
        return undefined;
      }
      this.subscriber = subscriber;
      this.syncPause();
      this.wake();
      this.connect()
        .then(() => this.start())
        .catch((error: unknown) => {
          if (this.subscriber === subscriber) this.subscriber = undefined;
          subscriber.error(
            toKafkaError(error, `${this.name}: cannot start`, {
              stage: "source",
            }),
          );
        });
      return () => {
        if (this.subscriber === subscriber) {
          this.subscriber = undefined;
          this.syncPause();
        }
      };
    });
  }

  assignments(): Observable<AssignmentEvent> {
    return defer(() => {
      if (this.closing !== undefined) return EMPTY;
      const owned = [...this.partitions.values()]
        .filter((ps) => !ps.revoking)
        .map((ps) => ps.tp);
      if (owned.length === 0) return this.events.asObservable();
      return this.events.pipe(
        startWith<AssignmentEvent>({ type: "assigned", partitions: owned }),
      );
    });
  }

  pause(partitions?: readonly TopicPartition[]): void {
    this.pauses.pause(partitions);
    this.syncPause();
  }

  resume(partitions?: readonly TopicPartition[]): void {
    this.pauses.resume(partitions);
    this.syncPause();
    this.wake();
  }

  snapshot(): readonly CommitTrackerSnapshot[] {
    return [...this.partitions.values()].map((ps) => ps.tracker.snapshot());
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
  /**
   * Records between this source's position and the high watermark of its latest fetched batch,
   * per owned partition that has fetched anything (`sluice_consumer_lag`, which the runtime
   * exports for every Kafka source a job registers).
   *
   * @example
   * ```ts
   * source.lag(); // [{ topic: "orders", partition: 0, lag: 1200 }]
   * ```
   */
  lag(): readonly PartitionLagSample[] {
    const out: PartitionLagSample[] = [];
    for (const ps of this.partitions.values()) {
      if (ps.dropped || ps.highWatermark === undefined) continue;
      const next = ps.nextOffset ?? ps.highWatermark;
      out.push({
        topic: ps.tp.topic,
        partition: ps.tp.partition,
        lag: Math.max(0, ps.highWatermark - next),
      });
    }
    return out;
  }

  isCaughtUp(tp: TopicPartition): boolean | undefined {
    const ps = this.partitions.get(tpKey(tp.topic, tp.partition));
    if (ps === undefined || ps.dropped || ps.highWatermark === undefined)
      return undefined;
    return ps.nextOffset !== undefined && ps.nextOffset >= ps.highWatermark;
  }

  /**
   * Starts owned partitions from checkpointed offsets (see {@link Source.restore}): a fresh
   * tracker skips the `doneAbove` offsets, and the consumer seeks to `committed` (or to the
   * `startFrom` end without one), ignoring the group's commit. Call it while the partition is
   * paused, before it emitted anything. Batches fetched before the seek are handed back
   * unresolved and never emitted (see `clients/*.ts` for what each driver fetches early).
   *
   * @example
   * ```ts
   * source.assignments().subscribe((e) => {
   *   if (e.type !== "assigned") return;
   *   source.pause(e.partitions);
   *   void load(e.partitions).then((snapshots) => { source.restore(snapshots); source.resume(e.partitions); });
   * });
   * ```
   */
  restore(snapshots: readonly CommitTrackerSnapshot[]): void {
    const states: [PartitionState<T>, CommitTrackerSnapshot][] = [];
    for (const s of snapshots) {
      const ps = this.partitions.get(tpKey(s.topic, s.partition));
      if (ps === undefined || ps.dropped || ps.revoking)
        throw new SluiceError(
          "CONFLICT",
          `${this.name}: cannot restore ${s.topic}[${s.partition}]: partition not owned`,
          { context: { topic: s.topic, partition: s.partition } },
        );
      if (ps.inFlight > 0 || ps.batches.size > 0)
        throw new SluiceError(
          "CONFLICT",
          `${this.name}: cannot restore ${s.topic}[${s.partition}]: records already in flight`,
          { context: { topic: s.topic, partition: s.partition } },
        );
      states.push([ps, s]);
    }
    for (const [ps, s] of states) {
      const tracker = new CommitTracker(s.topic, s.partition);
      tracker.restore(s);
      ps.tracker = tracker;
      ps.nextOffset = s.committed;
      ps.skipUntil = s.doneAbove.reduce((m, [, to]) => Math.max(m, to), -1);
      const target: SeekTarget = s.committed ?? this.options.startFrom;
      ps.fence = { target, rejected: 0 };
      ps.restored = true;
      this.consumer?.seek(ps.tp, target);
    }
    this.wake();
  }

  /**
   * Registers a hook awaited on revoke and on close after the drain and before the commit
   * and release (see {@link Source.beforeRelease}): inside `rebalance_cb` with confluent;
   * with kafkajs, which does not wait for a revoke, before the late commit (README).
   */
  beforeRelease(
    hook: (partitions: readonly TopicPartition[]) => Promise<void>,
  ): () => void {
    this.releaseHooks.add(hook);
    return () => this.releaseHooks.delete(hook);
  }

  commit(): Promise<void> {
    return this.committer.commit([...this.partitions.values()]);
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
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

  private async dropEverything(): Promise<void> {
    this.subscriber = undefined;
    if (this.commitTimer !== undefined) clearInterval(this.commitTimer);
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const ps of [...this.partitions.values()]) this.release(ps);
    this.wake();
    await Promise.allSettled([this.connecting, this.running]);
    // Let the driver run the seeks it queued for batches handed back before the abort:
    // confluent runs them after its disconnect otherwise, and rejects unhandled.
    await new Promise((resolve) => setTimeout(resolve, 250));
    await Promise.allSettled([
      this.consumer?.disconnect(),
      this.deadLetters?.disconnect(),
    ]);
    this.events.complete();
  }

  private async runReleaseHooks(
    partitions: readonly TopicPartition[],
  ): Promise<void> {
    for (const hook of [...this.releaseHooks]) {
      try {
        await hook(partitions);
      } catch {
        // The hook reports its own failure; the release goes on (Source.beforeRelease).
      }
    }
  }

  private async open(): Promise<void> {
    const o = this.options;
    const client = createKafkaClient(o.client, o);
    const consumer = client.consumer({
      groupId: o.group,
      fromBeginning: o.startFrom === "earliest",
      sessionTimeoutMs: o.sessionTimeoutMs,
      heartbeatIntervalMs: o.heartbeatIntervalMs,
      rebalanceTimeoutMs: o.rebalanceTimeoutMs,
      maxWaitTimeMs: o.maxWaitTimeMs,
      maxBatchSize: o.maxBatchSize,
      maxBytesPerPartition: o.maxBytesPerPartition,
      maxBytes: o.maxBytes,
    });
    this.consumer = consumer;
    if (o.onDecodeError === "dead-letter") {
      this.deadLetters = client.producer({
        idempotent: true,
        maxInFlightRequests: 5,
        lingerMs: 5,
        compression: "none",
      });
      await this.deadLetters.connect();
    }
    await consumer.connect();
  }

  private start(): Promise<void> {
    this.running ??= this.consumer!.run(this.options.topics, {
      onBatch: (batch) => this.intake(batch),
      onAssigned: (partitions) => this.assigned(partitions),
      onRevoking: (partitions) => this.revoke(partitions),
      onFatal: (error) => this.fatal(error),
    }).then(() => {
      const interval = this.options.commitIntervalMs;
      if (interval > 0 && this.closing === undefined)
        this.commitTimer = setInterval(() => this.commitQuietly(), interval);
    });
    return this.running;
  }

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
    const fresh: TopicPartition[] = [];
    for (const tp of partitions) {
      const key = tpKey(tp.topic, tp.partition);
      if (this.partitions.has(key)) continue;
      this.partitions.set(key, {
        tp: { topic: tp.topic, partition: tp.partition },
        key,
        tracker: new CommitTracker(tp.topic, tp.partition),
        nextOffset: undefined,
        highWatermark: undefined,
        inFlight: 0,
        lastCommitted: undefined,
        revoking: false,
        dropped: false,
        batches: new Set(),
        restored: false,
        skipUntil: -1,
        fence: undefined,
      });
      fresh.push(tp);
    }
    if (fresh.length > 0)
      this.events.next({ type: "assigned", partitions: fresh });
    this.syncPause();
    const states = fresh
      .map((tp) => this.partitions.get(tpKey(tp.topic, tp.partition)))
      .filter((ps) => ps !== undefined);
    return this.drain(
      () =>
        states.every(
          (ps) => ps.restored || ps.dropped || !this.pauses.has(ps.key),
        ),
      Math.min(this.options.rebalanceTimeoutMs / 2, 10_000),
    );
  }

  /** Stop intake, tell the job, drain (bounded), commit, release. */
  private async revoke(partitions: readonly TopicPartition[]): Promise<void> {
    if (this.aborted) return;
    const states = partitions
      .map((tp) => this.partitions.get(tpKey(tp.topic, tp.partition)))
      .filter(
        (ps): ps is PartitionState<T> => ps !== undefined && !ps.revoking,
      );
    if (states.length === 0) return;
    for (const ps of states) ps.revoking = true;
    this.events.next({
      type: "revoked",
      partitions: states.map((ps) => ps.tp),
    });
    await this.drain(() => states.every((ps) => ps.inFlight === 0));
    if (!this.aborted) await this.runReleaseHooks(states.map((ps) => ps.tp));
    if (this.aborted) return;
    await this.committer.commitWithRetry(
      states,
      Math.max(this.options.drainTimeoutMs, 2_000),
    );
    for (const ps of states) this.release(ps);
  }

  private async shutdown(): Promise<void> {
    const subscriber = this.subscriber;
    this.subscriber = undefined;
    subscriber?.complete();
    if (this.commitTimer !== undefined) clearInterval(this.commitTimer);
    try {
      await this.connecting;
    } catch {
      // Nothing connected: nothing to drain or commit.
    }
    try {
      await this.running;
    } catch {
      // The fetch loop never started.
    }
    const before = this.inFlightCount;
    await this.drain(() => this.inFlightCount === 0);
    // Loud, never a silent partial commit (connectors/internal/unsettled.ts).
    if (this.inFlightCount > 0)
      reportUnsettled({
        source: this.name,
        action: "close",
        waitedMs: this.options.drainTimeoutMs,
        inFlightBefore: before,
        partitions: [...this.partitions.values()].map((ps) => ({
          ...ps.tp,
          count: ps.inFlight,
          oldestOffset: oldestOf(
            [...ps.batches].flatMap((b) =>
              b.messages.filter((_, i) => b.done[i] === 0).map((m) => m.offset),
            ),
          ),
        })),
      });
    const states = [...this.partitions.values()];
    if (states.length > 0)
      await this.runReleaseHooks(states.map((ps) => ps.tp));
    await this.committer.commitWithRetry(
      states,
      Math.max(this.options.drainTimeoutMs, 2_000),
    );
    if (states.length > 0)
      this.events.next({
        type: "revoked",
        partitions: states.map((ps) => ps.tp),
      });
    for (const ps of states) {
      ps.revoking = true;
      this.release(ps);
    }
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await Promise.allSettled([
      this.consumer?.disconnect(),
      this.deadLetters?.disconnect(),
    ]);
    this.events.complete();
  }

  private release(ps: PartitionState<T>): void {
    if (ps.dropped) return;
    ps.dropped = true;
    this.inFlightCount -= ps.inFlight;
    ps.inFlight = 0;
    ps.batches.clear();
    if (this.partitions.get(ps.key) === ps) this.partitions.delete(ps.key);
    this.clientPaused.delete(ps.key);
    this.relieve();
  }

  private commitQuietly(): void {
    // A refused commit (rebalance in progress) is retried by the next one; the new owner
    // starts from the last accepted commit, so at-least-once holds.
    this.committer.commit([...this.partitions.values()]).catch(() => undefined);
  }

  /** Resolves when `done()` holds (checked on every settle) or after `drainTimeoutMs`. */
  private drain(
    done: () => boolean,
    timeoutMs = this.options.drainTimeoutMs,
  ): Promise<void> {
    return this.waiters.until(done, (fire) => {
      const timer = setTimeout(fire, timeoutMs);
      return () => clearTimeout(timer);
    });
  }

  /** Client-pauses exactly the owned partitions that must not fetch now. */
  private syncPause(): void {
    const consumer = this.consumer;
    if (consumer === undefined) return;
    const stop: TopicPartition[] = [];
    const go: TopicPartition[] = [];
    for (const ps of this.partitions.values()) {
      const want = this.blocked(ps);
      const has = this.clientPaused.has(ps.key);
      if (want && !has) {
        this.clientPaused.set(ps.key, ps.tp);
        stop.push(ps.tp);
      } else if (!want && has) {
        this.clientPaused.delete(ps.key);
        go.push(ps.tp);
      }
    }
    try {
      if (stop.length > 0) consumer.pause(stop);
      if (go.length > 0) consumer.resume(go);
    } catch {
      // The driver refuses pause/resume outside an assignment; intake() still gates.
    }
  }

  private blocked(ps: PartitionState<T>): boolean {
    return (
      this.subscriber === undefined ||
      this.closing !== undefined ||
      this.backpressured ||
      this.pauses.allPaused ||
      ps.revoking ||
      this.pauses.has(ps.key)
    );
  }

  private relieve(): void {
    if (this.backpressured && this.inFlightCount <= this.options.lowWatermark) {
      this.backpressured = false;
      this.syncPause();
    }
    this.wake();
  }

  private wake(): void {
    this.waiters.wake();
  }

  /**
   * Emits what fits of a fetched batch and resolves exactly that; the rest is fetched again.
   * While records settle as fast as they are emitted (room frees up during the emit), the
   * rest of the same batch is taken at once, in chunks of at most `maxInFlight`, each
   * checked like a new batch: handing it back would make the driver fetch and parse it
   * again (kafkajs fetches up to 8 MiB per partition by default, many times `maxInFlight`).
   */
  private intake(batch: FetchedBatch): Promise<void> {
    for (;;) {
      const more = this.intakeChunk(batch);
      if (more !== true) return more;
    }
  }

  /** One chunk of {@link intake}: `true` when more of `batch` can be taken right away. */
  private intakeChunk(batch: FetchedBatch): Promise<void> | true {
    if (this.closing !== undefined) {
      // Never emitted, never committed (commits come from the trackers only). Resolving
      // spares confluent a seek back that it would run after its disconnect, and reject.
      const lastSeen = batch.messages[batch.messages.length - 1];
      if (lastSeen !== undefined) batch.resolve(lastSeen.offset);
      return Promise.resolve();
    }
    const ps = this.partitions.get(tpKey(batch.topic, batch.partition));
    const subscriber = this.subscriber;
    const hw = batch.highWatermark;
    if (
      ps !== undefined &&
      hw !== undefined &&
      (ps.highWatermark === undefined || hw > ps.highWatermark)
    )
      ps.highWatermark = hw;
    if (
      ps === undefined ||
      ps.dropped ||
      subscriber === undefined ||
      this.blocked(ps)
    ) {
      // Handed back: confluent seeks back to this batch, which must not undo a restore.
      if (ps?.fence !== undefined && !ps.dropped && !batch.isStale())
        this.consumer?.seek(ps.tp, ps.fence.target);
      this.syncPause();
      return this.held() ? this.waitForRoom() : Promise.resolve();
    }
    if (ps.fence !== undefined && !this.passesFence(ps, batch))
      return Promise.resolve();
    const next = ps.nextOffset;
    // Offsets rise within a partition's batch: a first offset at or above `next` means all.
    const fresh =
      next === undefined || (batch.messages[0]?.offset ?? next) >= next
        ? batch.messages
        : batch.messages.filter((m) => m.offset >= next);
    const room = this.options.maxInFlight - this.inFlightCount;
    const take =
      room >= fresh.length ? fresh : fresh.slice(0, Math.max(0, room));
    if (take.length === 0) {
      const lastSeen = batch.messages[batch.messages.length - 1];
      if (fresh.length === 0 && lastSeen !== undefined)
        batch.resolve(lastSeen.offset);
      if (room <= 0) {
        this.backpressured = true;
        this.syncPause();
        return this.waitForRoom();
      }
      return Promise.resolve();
    }
    const last = take[take.length - 1]!.offset;
    const states = this.track(ps, take);
    for (const state of states) ps.batches.add(state);
    ps.nextOffset = last + 1;
    batch.resolve(last);
    for (const state of states) this.deliver(state, undefined);
    if (this.inFlightCount >= this.options.maxInFlight) {
      this.backpressured = true;
      this.syncPause();
      return Promise.resolve();
    }
    if (take.length < fresh.length && !ps.dropped && !this.blocked(ps))
      return true;
    return Promise.resolve();
  }

  /**
   * Tracks `messages` in offset order as batches, leaving out the offsets a restore said
   * were done already (tracked as done by `shouldSkip`, never emitted).
   */
  private track(
    ps: PartitionState<T>,
    messages: readonly FetchedMessage[],
  ): BatchState<T>[] {
    const states: BatchState<T>[] = [];
    const onSettled = this.onSettled;
    const batch = (run: readonly FetchedMessage[]): void => {
      const head = run[0];
      const tail = run[run.length - 1];
      if (head === undefined || tail === undefined) return;
      states.push({
        ps,
        last: tail.offset,
        messages: run,
        done: new Uint8Array(run.length),
        handle: ps.tracker.trackBatch(head.offset, tail.offset, run.length),
        outstanding: 0,
        failed: false,
        onSettled,
      });
    };
    // Nothing to skip (no restore, or past its done ranges): the fetched run as it is.
    if (ps.skipUntil < (messages[0]?.offset ?? 0)) {
      batch(messages);
      return states;
    }
    let run: FetchedMessage[] = [];
    const flush = (): void => {
      batch(run);
      run = [];
    };
    for (const msg of messages) {
      if (msg.offset <= ps.skipUntil && ps.tracker.isDone(msg.offset)) {
        flush();
        if (ps.tracker.shouldSkip(msg.offset)) continue;
      }
      run.push(msg);
    }
    flush();
    return states;
  }

  /**
   * A restored partition takes no batch fetched before its seek: stale ones (the driver
   * says so) are handed back, and so are, a bounded number of times with the seek repeated,
   * batches that start above the seek target (fetched from a newer group commit).
   */
  private passesFence(ps: PartitionState<T>, batch: FetchedBatch): boolean {
    const fence = ps.fence;
    if (fence === undefined) return true;
    if (batch.isStale()) return false;
    const first = batch.messages[0];
    if (first === undefined) return false;
    if (
      typeof fence.target === "number" &&
      first.offset > fence.target &&
      fence.rejected < FENCE_RESEEKS
    ) {
      fence.rejected += 1;
      this.consumer?.seek(ps.tp, fence.target);
      return false;
    }
    ps.fence = undefined;
    return true;
  }

  /** True while the whole source takes nothing: backpressure, pause() of all, no subscriber. */
  private held(): boolean {
    return (
      this.closing === undefined &&
      (this.backpressured ||
        this.pauses.allPaused ||
        this.subscriber === undefined)
    );
  }

  /**
   * A handler that could take nothing waits a little for room before handing the batch
   * back, so a driver that refetches it (confluent does not pause) does not spin.
   */
  private waitForRoom(): Promise<void> {
    return this.drain(() => !this.held(), HELD_WAIT_MS);
  }

  private readonly onSettled = (
    b: BatchState<T>,
    error: SluiceError | undefined,
  ): void => this.settled(b, error);

  /**
   * Decodes and emits the records of `state` under its current handle: those at
   * `indices`, or all of them. Values are decoded here, at each delivery, and not kept.
   */
  private deliver(
    state: BatchState<T>,
    indices: readonly number[] | undefined,
  ): void {
    const { ps, messages } = state;
    const n = indices === undefined ? messages.length : indices.length;
    state.outstanding += n;
    ps.inFlight += n;
    this.inFlightCount += n;
    const decode = this.options.decode;
    const { topic, partition } = ps.tp;
    for (let j = 0; j < n; j++) {
      const i = indices === undefined ? j : indices[j]!;
      const m = messages[i]!;
      const ack = new RecordAck(state, i);
      let value: T;
      try {
        value = decode(m.value ?? Buffer.alloc(0));
      } catch (cause) {
        this.metrics.decodeErrors += 1;
        this.badRecord(
          ps,
          m,
          decodeError({ topic, partition, offset: m.offset }, cause),
          ack,
        );
        continue;
      }
      const subscriber = this.subscriber;
      if (subscriber === undefined) {
        // Nobody listens any more: fail it so it is delivered again, never lost.
        ack.nack(closedError(this.name));
        continue;
      }
      this.metrics.recordsIn += 1;
      // What record() builds, without its init object (one allocation less per record).
      const r: Record<T> = {
        key: m.key === null ? undefined : m.key.toString("utf8"),
        value,
        timestamp: m.timestamp,
        headers: m.headers,
        origin: this.originOf(topic, partition, m.offset),
        ack,
      };
      subscriber.next(r);
    }
  }

  private badRecord(
    ps: PartitionState<T>,
    m: FetchedMessage,
    error: SluiceError,
    ack: RecordAck<T>,
  ): void {
    switch (this.options.onDecodeError) {
      case "skip":
        this.metrics.skipped += 1;
        ack.ack();
        return;
      case "fail": {
        const subscriber = this.subscriber;
        this.subscriber = undefined;
        subscriber?.error(error);
        return;
      }
      case "dead-letter": {
        this.deadLetters!.send([
          deadLetterMessage(this.options.deadLetterTopic!, ps.tp, m, error),
        ]).then(
          () => {
            this.metrics.deadLettered += 1;
            ack.ack();
          },
          (e: unknown) =>
            ack.nack(
              toKafkaError(e, `${this.name}: dead letter not written`, {
                ...ps.tp,
                offset: m.offset,
                stage: "decode",
              }),
            ),
        );
        return;
      }
    }
  }

  private settled(state: BatchState<T>, error: SluiceError | undefined): void {
    const { ps } = state;
    if (ps.dropped || !ps.batches.has(state)) return;
    ps.inFlight -= 1;
    this.inFlightCount -= 1;
    state.outstanding -= 1;
    if (error !== undefined) state.failed = true;
    if (state.outstanding === 0) {
      if (!state.failed) ps.batches.delete(state);
      else if (!ps.revoking && this.closing === undefined)
        this.redeliverLater(state);
    }
    this.relieve();
  }

  /** A nacked batch: once its delivery is settled, emit its failed records again under a fresh handle. */
  private redeliverLater(state: BatchState<T>): void {
    const run = (): void => {
      const { ps } = state;
      if (ps.dropped || ps.revoking || this.closing !== undefined) return;
      if (this.subscriber === undefined) {
        // Nobody to deliver to: try again later rather than spin.
        schedule(Math.max(this.options.nackBackoffMs, 100));
        return;
      }
      state.handle = ps.tracker.retry(state.last);
      state.failed = false;
      const again: number[] = [];
      for (let i = 0; i < state.done.length; i++)
        if (state.done[i] === 1) state.handle.ack();
        else again.push(i);
      this.metrics.redelivered += again.length;
      this.deliver(state, again);
    };
    const schedule = (delayMs: number): void => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        run();
      }, delayMs);
      this.timers.add(timer);
    };
    schedule(this.options.nackBackoffMs);
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
