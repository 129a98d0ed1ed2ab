import {
  EMPTY,
  Observable,
  Subject,
  Subscription,
  defer,
  startWith,
} from "rxjs";
import type { SchedulerAction, SchedulerLike, Subscriber } from "rxjs";
import { CommitTracker } from "../../operators/commit-tracker.js";
import type { CommitTrackerSnapshot } from "../../operators/commit-tracker.js";
import { linkedOrigins } from "../../operators/partition-owner.js";
import type { Record } from "../../operators/record.js";
import { SluiceError } from "../../operators/sluice-error.js";
import type { AssignmentEvent, Source, TopicPartition } from "../types.js";
import { tpKey } from "./partition-key.js";
import { SettleWaiters } from "./settle-waiters.js";
import type { ResolvedSourceOptions } from "./source-options.js";
import { reportUnsettled } from "./unsettled.js";
import { UserPauses } from "./user-pauses.js";

/** What the intake core keeps per owned partition; each source adds its read position. @internal */
export interface IntakePartition {
  readonly tp: TopicPartition;
  readonly key: string;
  /** Replaced by `restore()` before the partition emits anything. */
  tracker: CommitTracker;
  /** Emitted and not settled. */
  inFlight: number;
  /** Paused at `maxInFlightPerPartition` until half of it settled. */
  capped: boolean;
  lastCommitted: number | undefined;
  revoking: boolean;
  dropped: boolean;
}

/** The core fields of a newly assigned partition. @internal */
export function intakePartition(tp: TopicPartition): IntakePartition {
  return {
    tp: { topic: tp.topic, partition: tp.partition },
    key: tpKey(tp.topic, tp.partition),
    tracker: new CommitTracker(tp.topic, tp.partition),
    inFlight: 0,
    capped: false,
    lastCommitted: undefined,
    revoking: false,
    dropped: false,
  };
}

type ReleaseHook = (partitions: readonly TopicPartition[]) => Promise<void>;

/**
 * The intake core of every partitioned source (memory, Kafka): one subscriber, assignment
 * events, user pauses, in-flight caps (global, per-partition share, per-partition hard cap),
 * restore, release hooks, drain on revoke and close, commit timer. A connector adds how it
 * reads (its pump or fetch handler), how it commits and how it connects.
 *
 * Flow control: a partition may take records while it holds fewer than its share
 * (`floor(maxInFlight / owned partitions)`, at least 1), whatever the others hold; above
 * its share only from the pool the other partitions with something to read do not reserve.
 * When that pool is used up the source is backpressured until `lowWatermark`.
 * @internal
 */
export abstract class PartitionedSource<
  T,
  P extends IntakePartition,
> implements Source<T> {
  readonly name: string;
  protected readonly partitions = new Map<string, P>();
  protected readonly pauses = new UserPauses();
  protected readonly events = new Subject<AssignmentEvent>();
  protected readonly waiters = new SettleWaiters();
  /** Redelivery backoffs and other one-off timers; ended by close. */
  protected readonly timers = new Subscription();
  protected subscriber: Subscriber<Record<T>> | undefined;
  protected closing: Promise<void> | undefined;
  protected inFlightCount = 0;
  /** The pool above the shares is used up: only partitions under their share read, until `lowWatermark`. */
  protected backpressured = false;
  /** Origins that link back to this source, for `withWatermarks` (see `ownerOf`). */
  protected readonly originOf = linkedOrigins(this);
  private readonly commitTask = new Subscription();
  private readonly releaseHooks = new Set<ReleaseHook>();

  constructor(
    protected readonly flow: ResolvedSourceOptions,
    protected readonly scheduler: SchedulerLike,
  ) {
    this.name = flow.name;
  }

  abstract connect(): Promise<void>;
  /** Connects, then starts reading for the subscriber that `records()` just took. */
  protected abstract startIntake(): Promise<void>;
  /** The error a failed start ends `records()` with. */
  protected abstract startError(error: unknown): SluiceError;
  /** Re-checks what may be read now (caps, pauses or the subscriber changed). */
  protected abstract intakeChanged(): void;
  /** True while the partition keeps records for redelivery (restore refuses then). */
  protected abstract holdsRecords(ps: P): boolean;
  /** The oldest offset of `ps` emitted and not settled, for the unsettled-records report. */
  protected abstract oldestUnsettled(ps: P): number | undefined;
  /** True when the partition may have records to read (it reserves its share then). */
  protected abstract hasBacklog(ps: P): boolean;
  /** Moves a restored partition's read position; its tracker is restored already. */
  protected abstract restored(ps: P, snapshot: CommitTrackerSnapshot): void;
  /** Commits the commit points of `states`; `final` (revoke, close) never rejects. */
  protected abstract commitStates(
    states: readonly P[],
    final: boolean,
  ): Promise<void>;
  /** Close: waits for connect and start; false when there is nothing to drain or hand back. */
  protected abstract settleStart(): Promise<boolean>;
  /** Close: leaves the group and releases the connection. */
  protected abstract disconnect(): Promise<void>;

  /** True once the member is gone (crashed, aborted): no drain, hooks or commit any more. */
  protected lost(): boolean {
    return false;
  }
  /** An error for a new subscriber (a crashed member), else undefined. */
  protected refusal(): SluiceError | undefined {
    return undefined;
  }
  /** Called when a partition is released (its records are no longer tracked). */
  protected released(ps: P): void {
    void ps;
  }
  /** Called after a revoke released its partitions. */
  protected afterRevoke(): void {}
  /** Called first on close. */
  protected stopping(): void {}

  get inFlight(): number {
    return this.inFlightCount;
  }

  records(): Observable<Record<T>> {
    return new Observable<Record<T>>((subscriber) => {
      const refused = this.refusal();
      if (refused !== undefined) {
        subscriber.error(refused);
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
      this.intakeChanged();
      this.waiters.wake();
      this.startIntake().catch((error: unknown) => {
        if (this.subscriber === subscriber) this.subscriber = undefined;
        subscriber.error(this.startError(error));
      });
      return () => {
        if (this.subscriber === subscriber) {
          this.subscriber = undefined;
          this.intakeChanged();
        }
      };
    });
  }

  assignments(): Observable<AssignmentEvent> {
    return defer(() => {
      if (this.closing !== undefined || this.lost()) return EMPTY;
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
    this.intakeChanged();
  }

  resume(partitions?: readonly TopicPartition[]): void {
    this.pauses.resume(partitions);
    this.intakeChanged();
    this.waiters.wake();
  }

  snapshot(): readonly CommitTrackerSnapshot[] {
    return [...this.partitions.values()].map((ps) => ps.tracker.snapshot());
  }

  /**
   * Starts owned partitions from checkpointed offsets (see {@link Source.restore}): a fresh
   * tracker skips the `doneAbove` offsets and the read position moves to `committed` (or
   * the `startFrom` end without one, ignoring the group's commit).
   */
  restore(snapshots: readonly CommitTrackerSnapshot[]): void {
    const states: [P, CommitTrackerSnapshot][] = [];
    for (const s of snapshots) {
      const ps = this.partitions.get(tpKey(s.topic, s.partition));
      const where = `${s.topic}[${s.partition}]`;
      const context = { topic: s.topic, partition: s.partition };
      if (ps === undefined || ps.dropped || ps.revoking)
        throw new SluiceError(
          "CONFLICT",
          `${this.name}: cannot restore ${where}: partition not owned`,
          { context },
        );
      if (ps.inFlight > 0 || this.holdsRecords(ps))
        throw new SluiceError(
          "CONFLICT",
          `${this.name}: cannot restore ${where}: records already in flight`,
          { context },
        );
      states.push([ps, s]);
    }
    for (const [ps, s] of states) {
      const tracker = new CommitTracker(s.topic, s.partition);
      tracker.restore(s);
      ps.tracker = tracker;
      this.restored(ps, s);
    }
    this.intakeChanged();
    this.waiters.wake();
  }

  /**
   * Registers a hook awaited on revoke and on close after the drain and before the commit
   * and release (see {@link Source.beforeRelease}).
   */
  beforeRelease(hook: ReleaseHook): () => void {
    this.releaseHooks.add(hook);
    return () => this.releaseHooks.delete(hook);
  }

  commit(): Promise<void> {
    return this.commitStates([...this.partitions.values()], false);
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  /** Adds newly assigned partitions and tells the job; returns those not owned before. */
  protected adopt(states: readonly P[]): P[] {
    const fresh = states.filter((ps) => !this.partitions.has(ps.key));
    for (const ps of fresh) this.partitions.set(ps.key, ps);
    if (fresh.length > 0)
      this.events.next({
        type: "assigned",
        partitions: fresh.map((ps) => ps.tp),
      });
    this.intakeChanged();
    return fresh;
  }

  /** Stop intake, tell the job, drain (bounded), run the release hooks, commit, release. */
  protected async revoke(partitions: readonly TopicPartition[]): Promise<void> {
    if (this.lost()) return;
    const states = partitions
      .map((tp) => this.partitions.get(tpKey(tp.topic, tp.partition)))
      .filter((ps): ps is P => ps !== undefined && !ps.revoking);
    if (states.length === 0) return;
    for (const ps of states) ps.revoking = true;
    const tps = states.map((ps) => ps.tp);
    // Tell the job first: it may flush keyed state or windows, which settles their records.
    this.events.next({ type: "revoked", partitions: tps });
    await this.drain(() => states.every((ps) => ps.inFlight === 0));
    if (!this.lost()) await this.runReleaseHooks(tps);
    if (this.lost()) return;
    await this.commitStates(states, true);
    for (const ps of states) this.release(ps);
    this.afterRevoke();
  }

  private async shutdown(): Promise<void> {
    this.stopping();
    this.commitTask.unsubscribe();
    const subscriber = this.subscriber;
    this.subscriber = undefined;
    subscriber?.complete();
    if (await this.settleStart()) {
      const before = this.inFlightCount;
      await this.drain(() => this.inFlightCount === 0);
      // Loud, never a silent partial commit (connectors/internal/unsettled.ts).
      if (!this.lost() && this.inFlightCount > 0)
        reportUnsettled({
          source: this.name,
          action: "close",
          waitedMs: this.flow.drainTimeoutMs,
          inFlightBefore: before,
          partitions: [...this.partitions.values()].map((ps) => ({
            ...ps.tp,
            count: ps.inFlight,
            oldestOffset: this.oldestUnsettled(ps),
          })),
        });
      const states = [...this.partitions.values()];
      const tps = states.map((ps) => ps.tp);
      if (states.length > 0 && !this.lost()) await this.runReleaseHooks(tps);
      if (!this.lost()) await this.commitStates(states, true);
      if (states.length > 0)
        this.events.next({ type: "revoked", partitions: tps });
      for (const ps of states) {
        ps.revoking = true;
        this.release(ps);
      }
    }
    this.timers.unsubscribe();
    await this.disconnect();
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

  /** Stops tracking a partition: its unsettled records no longer count. */
  protected release(ps: P): void {
    if (ps.dropped) return;
    ps.dropped = true;
    this.inFlightCount -= ps.inFlight;
    ps.inFlight = 0;
    if (this.partitions.get(ps.key) === ps) this.partitions.delete(ps.key);
    this.released(ps);
    this.relieve();
  }

  /** Commits every `commitIntervalMs` on the source's scheduler until close. */
  protected startCommitTimer(): void {
    const interval = this.flow.commitIntervalMs;
    if (interval <= 0 || this.closing !== undefined || this.lost()) return;
    const commitQuietly = (): void => this.commitQuietly();
    this.commitTask.add(
      this.scheduler.schedule(function (this: SchedulerAction<undefined>) {
        commitQuietly();
        this.schedule(undefined, interval);
      }, interval),
    );
  }

  protected commitQuietly(): void {
    // A refused commit (rebalance in progress, member fenced) is retried by the next one;
    // the next owner starts from the last accepted commit, so at-least-once holds.
    this.commitStates([...this.partitions.values()], false).catch(
      () => undefined,
    );
  }

  /** Runs `run` after `delayMs` on the source's scheduler, unless the source closes first. */
  protected later(delayMs: number, run: () => void): void {
    const task = new Subscription();
    this.timers.add(task);
    task.add(
      this.scheduler.schedule(() => {
        this.timers.remove(task);
        run();
      }, delayMs),
    );
  }

  /** Resolves when `done()` holds (checked on every settle) or after `timeoutMs`. */
  protected drain(
    done: () => boolean,
    timeoutMs = this.flow.drainTimeoutMs,
  ): Promise<void> {
    return this.waiters.until(
      () => done() || this.lost(),
      (fire) => {
        const timer = this.scheduler.schedule(fire, timeoutMs);
        return () => timer.unsubscribe();
      },
    );
  }

  /** Records each owned partition may hold whatever the others hold. */
  protected get share(): number {
    return Math.max(
      1,
      Math.floor(this.flow.maxInFlight / Math.max(1, this.partitions.size)),
    );
  }

  /** True when intake of `ps` must wait: not subscribed, closing, paused, revoking, capped or over its share under backpressure. */
  protected blocked(ps: P): boolean {
    return (
      this.subscriber === undefined ||
      this.closing !== undefined ||
      this.lost() ||
      ps.revoking ||
      ps.dropped ||
      ps.capped ||
      this.pauses.allPaused ||
      this.pauses.has(ps.key) ||
      (this.backpressured && ps.inFlight >= this.share)
    );
  }

  /**
   * How many records `ps` may take now: up to its share, and above it what the pool leaves
   * after the shares still free of the other partitions that have something to read; never
   * above `maxInFlightPerPartition`. Zero when {@link blocked}.
   */
  protected room(ps: P): number {
    if (this.blocked(ps)) return 0;
    const share = this.share;
    let room = share - ps.inFlight;
    if (!this.backpressured) {
      let reserved = 0;
      for (const q of this.partitions.values())
        if (
          q !== ps &&
          q.inFlight < share &&
          !q.revoking &&
          !q.capped &&
          !this.pauses.has(q.key) &&
          this.hasBacklog(q)
        )
          reserved += share - q.inFlight;
      room = Math.max(
        room,
        this.flow.maxInFlight - this.inFlightCount - reserved,
      );
    }
    return Math.max(
      0,
      Math.min(room, this.flow.maxInFlightPerPartition - ps.inFlight),
    );
  }

  /** Counts `n` records of `ps` as emitted; caps them. */
  protected emitted(ps: P, n: number): void {
    ps.inFlight += n;
    this.inFlightCount += n;
    if (ps.inFlight >= this.flow.maxInFlightPerPartition) ps.capped = true;
    if (this.inFlightCount >= this.flow.maxInFlight) this.backpressured = true;
  }

  /** Counts one record of `ps` as settled; reopens intake where a cap or share allows. */
  protected settledOne(ps: P): void {
    ps.inFlight -= 1;
    this.inFlightCount -= 1;
    let opened = false;
    if (
      ps.capped &&
      ps.inFlight <= Math.floor(this.flow.maxInFlightPerPartition / 2)
    ) {
      ps.capped = false;
      opened = true;
    }
    if (this.backpressured) {
      if (this.inFlightCount <= this.flow.lowWatermark) {
        this.backpressured = false;
        opened = true;
      } else if (ps.inFlight === this.share - 1) opened = true;
    }
    if (opened) this.intakeChanged();
    this.waiters.wake();
  }

  /** After partitions were released: resumes below the low watermark, wakes the waits. */
  protected relieve(): void {
    if (this.backpressured && this.inFlightCount <= this.flow.lowWatermark) {
      this.backpressured = false;
      this.intakeChanged();
    }
    this.waiters.wake();
  }
}
