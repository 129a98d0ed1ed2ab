import type { CommitTrackerSnapshot } from "../operators/commit-tracker.js";
import type { PartitionSnapshot } from "../operators/state-backend.js";
import { SluiceError } from "../operators/sluice-error.js";

/**
 * The checkpoint of one input partition: its keyed state and its source offsets, taken at
 * the same moment so a restore neither loses nor double-counts (DESIGN.md "Guarantees").
 */
export interface CheckpointPiece {
  readonly topic: string;
  readonly partition: number;
  /** Keyed state and timers of the partition (`StateBackend.snapshot([...]).partitions[p]`). */
  readonly state: PartitionSnapshot;
  /** The partition's commit tracker snapshot. */
  readonly offsets: CommitTrackerSnapshot;
  /**
   * The owner's epoch from {@link CheckpointStore.claimCheckpoint}: the save is refused
   * ({@link CheckpointFencedError}) unless it is still the partition's latest claim.
   * Without it the piece is written unconditionally.
   */
  readonly epoch?: number;
}

/** A stored {@link CheckpointPiece} with the time it was written. */
export interface StoredCheckpoint extends CheckpointPiece {
  readonly updatedAt: Date;
}

/**
 * Where a job's checkpoints live, one row per (job, topic, partition). `saveCheckpoint`
 * writes every piece or none; PostgreSQL and Cassandra implement it.
 *
 * @example
 * ```ts
 * await store.saveCheckpoint("enrich", [{ topic: "reviews", partition: 0, state, offsets }]);
 * const back = await store.loadCheckpoint("enrich", "reviews", 0);
 * ```
 */
export interface CheckpointStore {
  /**
   * Writes every piece or none. A piece with an `epoch` older than its partition's latest
   * claim fails the whole save with {@link CheckpointFencedError} naming the fenced ones.
   */
  saveCheckpoint(
    job: string,
    pieces: readonly CheckpointPiece[],
  ): Promise<void>;
  /**
   * Makes the caller the partition's checkpoint owner and returns its epoch (1, 2, …): from
   * then on, saves with an earlier epoch (a previous owner still running: a zombie) are
   * refused. Claim before loading, so the load sees the last save a previous owner made.
   */
  claimCheckpoint(
    job: string,
    topic: string,
    partition: number,
  ): Promise<number>;
  loadCheckpoint(
    job: string,
    topic: string,
    partition: number,
  ): Promise<StoredCheckpoint | undefined>;
}

/** A partition a save was fenced from, with the epoch it carried and the owner's. */
export interface FencedPartition {
  readonly topic: string;
  readonly partition: number;
  readonly epoch: number;
  /** The latest claim's epoch (0 when the partition was never claimed). */
  readonly ownerEpoch: number;
}

/**
 * A checkpoint save refused because another instance claimed some of its partitions since
 * this one did: nothing of the save was written.
 *
 * @example
 * ```ts
 * catch (e) { if (e instanceof CheckpointFencedError) dropPartitions(e.fenced); }
 * ```
 */
export class CheckpointFencedError extends SluiceError {
  readonly job: string;
  readonly fenced: readonly FencedPartition[];

  constructor(job: string, fenced: readonly FencedPartition[]) {
    super(
      "CONFLICT",
      `checkpoint of ${job} fenced: ${fenced
        .map(
          (f) =>
            `${f.topic}[${f.partition}] (epoch ${f.epoch}, owner ${f.ownerEpoch})`,
        )
        .join(", ")} claimed by a newer owner`,
      {
        retryable: false,
        ...(fenced.length === 1
          ? {
              context: {
                topic: fenced[0]!.topic,
                partition: fenced[0]!.partition,
              },
            }
          : {}),
      },
    );
    this.job = job;
    this.fenced = fenced;
  }
}
