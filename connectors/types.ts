import type { Observable } from "rxjs";
import type { CommitTrackerSnapshot } from "../operators/commit-tracker.js";
import type { Headers, Record } from "../operators/record.js";

/** A partition of a topic. */
export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

/** What a source tells its job about partition ownership (consumer-group rebalances). */
export type AssignmentEvent =
  | {
      readonly type: "assigned";
      readonly partitions: readonly TopicPartition[];
    }
  | {
      readonly type: "revoked";
      readonly partitions: readonly TopicPartition[];
    };

/**
 * The source half of the connector contract (STYLE.md habit 3).
 *
 * A source emits {@link Record}s whose ack handles feed a per-partition commit tracker; it
 * commits only what the trackers say is done. It pauses intake when `maxInFlight` records
 * are unsettled and resumes below the low watermark. `close()` is idempotent: it stops
 * intake, waits (bounded) for in-flight records, commits and releases the connection.
 */
export interface Source<T> {
  readonly name: string;
  /** Connects (idempotent). */
  connect(): Promise<void>;
  /**
   * The record stream. Subscribing starts consumption; it completes when a bounded source
   * is exhausted or the source is closed. Sources that own partitions build each record's
   * origin with `linkedOrigins(this)`, so `ownerOf(origin)` leads back to `assignments()`
   * and `isCaughtUp()`: `withWatermarks` then counts every assigned partition, also one
   * that has sent nothing yet.
   */
  records(): Observable<Record<T>>;
  /**
   * Partition assignment changes, for jobs that keep keyed state per partition. On
   * subscription, the partitions owned now come first as one `assigned` event.
   */
  assignments(): Observable<AssignmentEvent>;
  /**
   * Optional: whether every record of an owned partition that the source can see has been
   * emitted (`false`: a backlog waits), `undefined` when it does not know. `withWatermarks`
   * asks it before it calls a silent partition idle.
   */
  isCaughtUp?(tp: TopicPartition): boolean | undefined;
  /** Stops fetching from the given partitions (all if omitted). */
  pause(partitions?: readonly TopicPartition[]): void;
  /** Resumes fetching. */
  resume(partitions?: readonly TopicPartition[]): void;
  /** Commit points and done-above ranges of every owned partition, for a checkpoint. */
  snapshot(): readonly CommitTrackerSnapshot[];
  /** Commits the trackers' commit points now. */
  commit(): Promise<void>;
  /** Number of records emitted and not yet settled. */
  readonly inFlight: number;
  close(): Promise<void>;
  /**
   * Optional: starts owned partitions from checkpointed offsets instead of the group's
   * committed ones. For each snapshot the source reads from `committed` and skips the
   * `doneAbove` offsets (`CommitTracker.restore`/`shouldSkip`); `committed: undefined`
   * means "no checkpoint": start by the source's start policy (earliest/latest), ignoring
   * the group's commit, because a checkpointed job's truth is its checkpoint store.
   * Call it before the partition emits anything: pause the partition on its `assigned`
   * event, restore, then resume. Throws `CONFLICT` for a partition not owned or with
   * records in flight.
   *
   * @example
   * ```ts
   * source.pause([tp]);
   * const piece = await store.loadCheckpoint(job, tp.topic, tp.partition);
   * source.restore?.([piece?.offsets ?? { ...tp, committed: undefined, doneAbove: [] }]);
   * source.resume([tp]);
   * ```
   */
  restore?(snapshots: readonly CommitTrackerSnapshot[]): void;
  /**
   * Optional: registers a hook that the source awaits on revoke and on close after it has
   * drained the partitions and before it commits and releases them, while `snapshot()`
   * still reports them, so the runtime can checkpoint their state and offsets together.
   * A hook that rejects does not stop the release (it must report its own failure).
   * Returns a function that removes the hook.
   *
   * @example
   * ```ts
   * const remove = source.beforeRelease?.(async (partitions) => { await checkpoint(partitions); });
   * ```
   */
  beforeRelease?(
    hook: (partitions: readonly TopicPartition[]) => Promise<void>,
  ): () => void;
}

/** One record to write: what a sink receives. */
export interface OutgoingRecord<T> {
  readonly topic?: string;
  readonly key: string | undefined;
  readonly value: T;
  readonly timestamp?: number;
  readonly headers?: Headers;
  readonly partition?: number;
}

/**
 * The sink half of the connector contract: writes batches, flushes on demand and declares
 * its maximum number of batches in flight. A record is acked by the caller only after the
 * batch holding it has been written.
 */
export interface Sink<T> {
  readonly name: string;
  readonly maxInFlight: number;
  connect(): Promise<void>;
  write(batch: readonly OutgoingRecord<T>[]): Promise<void>;
  flush(): Promise<void>;
  close(): Promise<void>;
}
