import type { CommitTrackerSnapshot } from "../operators/commit-tracker.js";
import type { PartitionSnapshot } from "../operators/state-backend.js";

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
  saveCheckpoint(
    job: string,
    pieces: readonly CheckpointPiece[],
  ): Promise<void>;
  loadCheckpoint(
    job: string,
    topic: string,
    partition: number,
  ): Promise<StoredCheckpoint | undefined>;
}
