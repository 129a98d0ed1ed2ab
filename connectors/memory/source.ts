import {
  EMPTY,
  Observable,
  Subject,
  Subscription,
  defer,
  startWith,
} from "rxjs";
import type { SchedulerAction, Subscriber } from "rxjs";
import { CommitTracker } from "../../operators/commit-tracker.js";
import type { CommitTrackerSnapshot } from "../../operators/commit-tracker.js";
import { linkedOrigins } from "../../operators/partition-owner.js";
import { record } from "../../operators/record.js";
import type { AckHandle, Record } from "../../operators/record.js";
import { SluiceError, toSluiceError } from "../../operators/sluice-error.js";
import type { AssignmentEvent, Source, TopicPartition } from "../types.js";
import { tpKey } from "../internal/partition-key.js";
import { SettleWaiters } from "../internal/settle-waiters.js";
import { oldestOf, reportUnsettled } from "../internal/unsettled.js";
import { UserPauses } from "../internal/user-pauses.js";
import { closedError, memberCrashed } from "./errors.js";
import type { LogRecord, MemoryLog } from "./log.js";
import { resolveMemorySourceOptions } from "./options.js";
import type {
  MemorySourceOptions,
  ResolvedMemorySourceOptions,
} from "./options.js";

/** What the source knows about one partition it owns. */
interface PartitionState {
  readonly tp: TopicPartition;
  readonly key: string;
  /** Replaced by `restore()` before the partition emits anything. */
  tracker: CommitTracker;
  /** Next offset to read from the log. */
  position: number;
  /** End offset when the partition was assigned (for `stopAtEnd`). */
  readonly endMark: number;
  /** Emitted and not settled. */
  inFlight: number;
  /** Intake of this partition paused at `maxInFlightPerPartition`, until half settle. */
  capped: boolean;
  /** Records emitted and not acked (kept for redelivery after a nack), by offset. */
  readonly pending: Map<number, LogRecord>;
  /** Nacked offsets whose backoff is over, waiting to be emitted again. */
  readonly redeliver: number[];
  /** Nacked offsets still in their backoff. */
  backoffs: number;
  lastCommitted: number | undefined;
  revoking: boolean;
  dropped: boolean;
}

/** Wraps a tracker handle to tell the source when its record is settled. */
class SourceAck implements AckHandle {
  constructor(
    private readonly inner: AckHandle,
    private readonly onSettled: (error: SluiceError | undefined) => void,
  ) {}
  get settled(): boolean {
    return this.inner.settled;
  }
  retain(count: number): void {
    if (this.inner.settled) return;
    this.inner.retain(count);
    if (this.inner.settled) this.onSettled(undefined);
  }
  ack(): void {
    if (this.inner.settled) return;
    this.inner.ack();
    if (this.inner.settled) this.onSettled(undefined);
  }
  nack(error: SluiceError): void {
    if (this.inner.settled) return;
    this.inner.nack(error);
    this.onSettled(error);
  }
}

/**
 * The memory connector's source: one consumer-group member over a {@link MemoryLog}.
 * Build it with {@link memorySource}.
 */
export class MemorySource<T> implements Source<T> {
  readonly name: string;
  private readonly options: ResolvedMemorySourceOptions;
  private memberId: string | undefined;
  private connecting: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  private joined = false;
  private crashed = false;
  private readonly partitions = new Map<string, PartitionState>();
  private readonly pauses = new UserPauses();
  private backpressured = false;
  private subscriber: Subscriber<Record<T>> | undefined;
  private pumpScheduled = false;
  private pumpTask: Subscription | undefined;
  private readonly timers = new Subscription();
  private readonly events = new Subject<AssignmentEvent>();
  private inFlightCount = 0;
  private readonly waiters = new SettleWaiters();
  private stopAppend: (() => void) | undefined;
  private readonly releaseHooks = new Set<
    (partitions: readonly TopicPartition[]) => Promise<void>
  >();
  /** Origins that link back to this source, for `withWatermarks` (see `ownerOf`). */
  private readonly originOf = linkedOrigins(this);

  constructor(
    private readonly log: MemoryLog,
    options: MemorySourceOptions,
  ) {
    this.options = resolveMemorySourceOptions(options);
    this.name = this.options.name;
  }

  /** Number of records emitted and not yet settled. */
  get inFlight(): number {
    return this.inFlightCount;
  }

  /** The member id in the log's group, once connected (for `log.crash(id)` in tests). */
  get member(): string | undefined {
    return this.memberId;
  }

  connect(): Promise<void> {
    if (this.closing !== undefined)
      return Promise.reject(closedError(this.name));
    this.connecting ??= this.join();
    return this.connecting;
  }

  records(): Observable<Record<T>> {
    return new Observable<Record<T>>((subscriber) => {
      if (this.crashed) {
        subscriber.error(memberCrashed(this.memberId ?? "?"));
        return undefined;
      }
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
      this.connect().then(
        () => {
          this.schedulePump();
          this.checkEnd();
        },
        (error: unknown) =>
          subscriber.error(
            toSluiceError(error, "CONNECTION", { stage: "source" }),
          ),
      );
      return () => {
        if (this.subscriber === subscriber) this.subscriber = undefined;
      };
    });
  }

  assignments(): Observable<AssignmentEvent> {
    return defer(() => {
      if (this.closing !== undefined || this.crashed) return EMPTY;
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
  }

  resume(partitions?: readonly TopicPartition[]): void {
    this.pauses.resume(partitions);
    this.schedulePump();
  }

  snapshot(): readonly CommitTrackerSnapshot[] {
    return [...this.partitions.values()].map((ps) => ps.tracker.snapshot());
  }

  /**
   * Whether this source has emitted every record of an owned partition that the log holds
   * (no lag, nothing waiting for redelivery); `undefined` for a partition it does not own.
   * For `withWatermarks({ isCaughtUp })`: a silent partition with a backlog is not idle.
   *
   * @example
   * ```ts
   * withWatermarks({ maxOutOfOrdernessMs: 5_000, idleTimeoutMs: 10_000, isCaughtUp: (tp) => source.isCaughtUp(tp) });
   * ```
   */
  isCaughtUp(tp: TopicPartition): boolean | undefined {
    const ps = this.partitions.get(tpKey(tp.topic, tp.partition));
    if (ps === undefined) return undefined;
    return (
      ps.redeliver.length === 0 &&
      ps.position >= this.log.endOffset(tp.topic, tp.partition)
    );
  }

  /**
   * Starts owned partitions from checkpointed offsets (see {@link Source.restore}): the
   * read position moves to `committed` (or the `startFrom` end without one, ignoring the
   * group's commit) and a fresh tracker skips the `doneAbove` offsets.
   */
  restore(snapshots: readonly CommitTrackerSnapshot[]): void {
    for (const s of snapshots) {
      const ps = this.partitions.get(tpKey(s.topic, s.partition));
      if (ps === undefined || ps.dropped || ps.revoking)
        throw new SluiceError(
          "CONFLICT",
          `${this.name}: cannot restore ${s.topic}[${s.partition}]: partition not owned`,
          { context: { topic: s.topic, partition: s.partition } },
        );
      if (ps.inFlight > 0 || ps.pending.size > 0)
        throw new SluiceError(
          "CONFLICT",
          `${this.name}: cannot restore ${s.topic}[${s.partition}]: records already in flight`,
          { context: { topic: s.topic, partition: s.partition } },
        );
    }
    for (const s of snapshots) {
      const ps = this.partitions.get(tpKey(s.topic, s.partition))!;
      const start = this.log.startOffset(s.topic, s.partition);
      ps.position =
        s.committed !== undefined
          ? Math.max(s.committed, start)
          : this.options.startFrom === "earliest"
            ? start
            : this.log.endOffset(s.topic, s.partition);
      const tracker = new CommitTracker(s.topic, s.partition);
      tracker.restore(s);
      ps.tracker = tracker;
    }
    this.schedulePump();
  }

  /** Registers a hook awaited after the drain of a revoke or close (see {@link Source.beforeRelease}). */
  beforeRelease(
    hook: (partitions: readonly TopicPartition[]) => Promise<void>,
  ): () => void {
    this.releaseHooks.add(hook);
    return () => this.releaseHooks.delete(hook);
  }

  private async runReleaseHooks(
    partitions: readonly TopicPartition[],
  ): Promise<void> {
    for (const hook of [...this.releaseHooks]) {
      try {
        await hook(partitions);
      } catch {
        // The hook reports its own failure; the rebalance goes on (Source.beforeRelease).
      }
    }
  }

  commit(): Promise<void> {
    try {
      this.commitPartitions([...this.partitions.values()]);
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(
        toSluiceError(error, "INTERNAL", { stage: "commit" }),
      );
    }
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async join(): Promise<void> {
    this.stopAppend = this.log.onAppend((topic, partition) => {
      if (this.partitions.has(tpKey(topic, partition))) this.schedulePump();
    });
    const membership = this.log.join(
      this.options.group,
      this.options.topics,
      {
        onAssign: (partitions) => this.assigned(partitions),
        onRevoke: (partitions) => this.revoked(partitions),
        onCrash: () => this.crash(),
      },
      this.options.clientId,
    );
    this.memberId = membership.memberId;
    await membership.ready;
    this.joined = true;
    const interval = this.options.commitIntervalMs;
    if (interval > 0 && !this.crashed && this.closing === undefined) {
      const commitQuietly = (): void => this.commitQuietly();
      this.timers.add(
        this.options.scheduler.schedule(function (
          this: SchedulerAction<undefined>,
        ) {
          commitQuietly();
          this.schedule(undefined, interval);
        }, interval),
      );
    }
  }

  private assigned(partitions: readonly TopicPartition[]): void {
    if (this.crashed) return;
    for (const tp of partitions) {
      const committed = this.log.committed(
        this.options.group,
        tp.topic,
        tp.partition,
      );
      const start = this.log.startOffset(tp.topic, tp.partition);
      const end = this.log.endOffset(tp.topic, tp.partition);
      const position =
        committed !== undefined
          ? Math.max(committed, start)
          : this.options.startFrom === "earliest"
            ? start
            : end;
      const key = tpKey(tp.topic, tp.partition);
      this.partitions.set(key, {
        tp: { topic: tp.topic, partition: tp.partition },
        key,
        tracker: new CommitTracker(tp.topic, tp.partition),
        position,
        endMark: end,
        inFlight: 0,
        capped: false,
        pending: new Map(),
        redeliver: [],
        backoffs: 0,
        lastCommitted: committed,
        revoking: false,
        dropped: false,
      });
    }
    this.events.next({ type: "assigned", partitions });
    this.schedulePump();
  }

  private async revoked(partitions: readonly TopicPartition[]): Promise<void> {
    const states = partitions
      .map((tp) => this.partitions.get(tpKey(tp.topic, tp.partition)))
      .filter((ps) => ps !== undefined);
    for (const ps of states) ps.revoking = true;
    // Tell the job first: it may flush keyed state or windows, which settles their records.
    this.events.next({ type: "revoked", partitions });
    await this.drain(() => states.every((ps) => ps.inFlight === 0));
    if (!this.crashed && states.length > 0)
      await this.runReleaseHooks(states.map((ps) => ps.tp));
    if (!this.crashed) this.commitQuietly(states);
    for (const ps of states) this.release(ps);
    this.checkEnd();
  }

  private crash(): void {
    this.crashed = true;
    this.timers.unsubscribe();
    this.pumpTask?.unsubscribe();
    for (const ps of this.partitions.values()) ps.dropped = true;
    this.partitions.clear();
    this.inFlightCount = 0;
    this.waiters.wake();
    const subscriber = this.subscriber;
    this.subscriber = undefined;
    subscriber?.error(memberCrashed(this.memberId ?? "?"));
    this.events.complete();
  }

  private async shutdown(): Promise<void> {
    this.pumpTask?.unsubscribe();
    const subscriber = this.subscriber;
    this.subscriber = undefined;
    subscriber?.complete();
    if (this.connecting !== undefined) {
      try {
        await this.connecting;
      } catch {
        // A failed join leaves nothing to drain or leave.
      }
    }
    if (this.memberId !== undefined && !this.crashed) {
      const before = this.inFlightCount;
      await this.drain(() => this.inFlightCount === 0);
      // Loud, never a silent partial commit (connectors/internal/unsettled.ts).
      if (!this.crashed && this.inFlightCount > 0)
        reportUnsettled({
          source: this.name,
          action: "close",
          waitedMs: this.options.drainTimeoutMs,
          inFlightBefore: before,
          partitions: [...this.partitions.values()].map((ps) => ({
            ...ps.tp,
            count: ps.inFlight,
            oldestOffset: oldestOf(ps.pending.keys()),
          })),
        });
      if (!this.crashed && this.partitions.size > 0)
        await this.runReleaseHooks(
          [...this.partitions.values()].map((ps) => ps.tp),
        );
      const states = [...this.partitions.values()];
      this.commitQuietly(states);
      if (states.length > 0)
        this.events.next({
          type: "revoked",
          partitions: states.map((ps) => ps.tp),
        });
      for (const ps of states) this.release(ps);
      await this.log.leave(this.memberId);
    }
    this.timers.unsubscribe();
    this.stopAppend?.();
    this.events.complete();
  }

  private release(ps: PartitionState): void {
    if (ps.dropped) return;
    ps.dropped = true;
    this.inFlightCount -= ps.inFlight;
    ps.inFlight = 0;
    if (this.partitions.get(ps.key) === ps) this.partitions.delete(ps.key);
    this.relieve();
  }

  private commitPartitions(states: readonly PartitionState[]): void {
    if (this.memberId === undefined || this.crashed) return;
    const offsets: { topic: string; partition: number; offset: number }[] = [];
    for (const ps of states) {
      const c = ps.tracker.committable;
      if (c !== undefined && !ps.dropped && c !== ps.lastCommitted)
        offsets.push({ ...ps.tp, offset: c });
    }
    if (offsets.length === 0) return;
    this.log.commit(this.memberId, offsets);
    for (const ps of states) {
      const c = ps.tracker.committable;
      if (c !== undefined) ps.lastCommitted = c;
    }
  }

  private commitQuietly(
    states: readonly PartitionState[] = [...this.partitions.values()],
  ): void {
    try {
      this.commitPartitions(states);
    } catch {
      // Rejected commits (a member fenced by a rebalance) are retried by the next owner,
      // which starts from the last accepted commit: at-least-once holds.
    }
  }

  /** Resolves when `done()` holds (checked on every settle) or after `drainTimeoutMs`. */
  private drain(done: () => boolean): Promise<void> {
    return this.waiters.until(
      () => done() || this.crashed,
      (fire) => {
        const timer = this.options.scheduler.schedule(
          fire,
          this.options.drainTimeoutMs,
        );
        return () => timer.unsubscribe();
      },
    );
  }

  private settled(
    ps: PartitionState,
    offset: number,
    error: SluiceError | undefined,
  ): void {
    if (ps.dropped) return;
    ps.inFlight -= 1;
    this.inFlightCount -= 1;
    if (
      ps.capped &&
      ps.inFlight <= Math.floor(this.options.maxInFlightPerPartition / 2)
    ) {
      ps.capped = false;
      this.schedulePump();
    }
    if (error === undefined) ps.pending.delete(offset);
    else if (!ps.revoking && this.closing === undefined)
      this.scheduleRedelivery(ps, offset);
    this.relieve();
    this.waiters.wake();
  }

  private relieve(): void {
    if (this.backpressured && this.inFlightCount <= this.options.lowWatermark) {
      this.backpressured = false;
      this.schedulePump();
    }
  }

  private scheduleRedelivery(ps: PartitionState, offset: number): void {
    const run = (): void => {
      ps.backoffs -= 1;
      if (ps.dropped || ps.revoking || this.closing !== undefined) return;
      ps.redeliver.push(offset);
      ps.redeliver.sort((a, b) => a - b);
      this.schedulePump();
    };
    ps.backoffs += 1;
    const delay = this.options.nackBackoffMs;
    if (delay <= 0) {
      run();
      return;
    }
    const task = new Subscription();
    this.timers.add(task);
    task.add(
      this.options.scheduler.schedule(() => {
        this.timers.remove(task);
        run();
      }, delay),
    );
  }

  private schedulePump(): void {
    if (
      this.pumpScheduled ||
      this.subscriber === undefined ||
      this.closing !== undefined ||
      this.crashed
    )
      return;
    this.pumpScheduled = true;
    const task = this.options.scheduler.schedule(() => this.pump(), 0);
    if (this.pumpScheduled) this.pumpTask = task;
  }

  private canEmit(ps: PartitionState): boolean {
    const subscriber = this.subscriber;
    return (
      subscriber !== undefined &&
      !subscriber.closed &&
      this.closing === undefined &&
      !this.crashed &&
      !this.backpressured &&
      !this.pauses.allPaused &&
      !ps.revoking &&
      !ps.dropped &&
      !ps.capped &&
      !this.pauses.has(ps.key)
    );
  }

  private pump(): void {
    this.pumpScheduled = false;
    this.pumpTask = undefined;
    let budget = this.options.fetchMaxRecords;
    let progressed = true;
    while (progressed && budget > 0) {
      progressed = false;
      for (const ps of [...this.partitions.values()]) {
        while (budget > 0 && ps.redeliver.length > 0 && this.canEmit(ps)) {
          const offset = ps.redeliver.shift()!;
          const rec = ps.pending.get(offset);
          if (rec === undefined) continue;
          this.emit(ps, rec, ps.tracker.retry(offset));
          budget -= 1;
          progressed = true;
        }
        if (budget <= 0 || !this.canEmit(ps)) continue;
        ps.position = Math.max(
          ps.position,
          this.log.startOffset(ps.tp.topic, ps.tp.partition),
        );
        const room = Math.min(
          budget,
          this.options.maxInFlight - this.inFlightCount,
          this.options.maxInFlightPerPartition - ps.inFlight,
          64,
        );
        if (room <= 0) continue;
        for (const rec of this.log.read(
          ps.tp.topic,
          ps.tp.partition,
          ps.position,
          room,
        )) {
          if (!this.canEmit(ps)) break;
          ps.position = rec.offset + 1;
          if (ps.tracker.shouldSkip(rec.offset)) continue;
          this.emit(ps, rec, ps.tracker.track(rec.offset));
          budget -= 1;
          progressed = true;
        }
      }
    }
    if (budget <= 0) this.schedulePump();
    this.checkEnd();
  }

  private emit(ps: PartitionState, rec: LogRecord, handle: AckHandle): void {
    ps.inFlight += 1;
    this.inFlightCount += 1;
    if (ps.inFlight >= this.options.maxInFlightPerPartition) ps.capped = true;
    if (this.inFlightCount >= this.options.maxInFlight)
      this.backpressured = true;
    ps.pending.set(rec.offset, rec);
    const ack = new SourceAck(handle, (error) =>
      this.settled(ps, rec.offset, error),
    );
    this.subscriber!.next(
      record<T>({
        key: rec.key,
        // The memory log stores values as given; the source trusts its type parameter.
        value: rec.value as T,
        timestamp: rec.timestamp,
        headers: rec.headers,
        origin: this.originOf(rec.topic, rec.partition, rec.offset),
        ack,
      }),
    );
  }

  /** With `stopAtEnd`: completes once every owned partition is read to its end mark. */
  private checkEnd(): void {
    const subscriber = this.subscriber;
    if (!this.options.stopAtEnd || !this.joined || subscriber === undefined)
      return;
    for (const ps of this.partitions.values()) {
      if (
        ps.position < ps.endMark ||
        ps.redeliver.length > 0 ||
        ps.backoffs > 0
      )
        return;
    }
    this.subscriber = undefined;
    subscriber.complete();
  }
}

/**
 * A {@link Source} over a {@link MemoryLog}: one member of a consumer group that emits the
 * records of its assigned partitions in offset order, with ack handles from a commit tracker
 * per partition, commits only what is done, pauses at `maxInFlight` unsettled records,
 * redelivers nacked records and drains on revoke and close.
 *
 * @example
 * ```ts
 * const log = new MemoryLog();
 * log.createTopic("orders", { partitions: 3 });
 * const source = memorySource<Order>(log, { group: "billing", topics: ["orders"], maxInFlight: 500 });
 * source.records().subscribe((r) => { bill(r.value); r.ack.ack(); });
 * // later
 * await source.close(); // drains, commits, leaves the group
 * ```
 */
export function memorySource<T>(
  log: MemoryLog,
  options: MemorySourceOptions,
): MemorySource<T> {
  return new MemorySource<T>(log, options);
}
