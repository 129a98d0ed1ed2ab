import type { CommitTrackerSnapshot } from "../../operators/commit-tracker.js";
import type { PartitionSnapshot } from "../../operators/state-backend.js";
import type { CheckpointPiece } from "../checkpoint-store.js";

/** Fixtures for the checkpoint store tests: each store picks the state and offsets it round-trips. */
export interface CheckpointFixtures {
  /** A partition's state holding `count` for `user-1`. */
  state(count: number): PartitionSnapshot;
  /** A commit tracker snapshot committed at `committed`. */
  offsets(
    topic: string,
    partition: number,
    committed: number,
  ): CommitTrackerSnapshot;
  /** One piece of a save: `state(count)` and offsets committed at `committed`. */
  piece(
    topic: string,
    partition: number,
    count: number,
    committed: number,
  ): CheckpointPiece;
}

/**
 * Checkpoint fixtures whose state carries `extra` (maps and timers) beside a `count` value,
 * and whose offsets carry `doneAbove(committed)`. Test-only helper.
 */
export function checkpointFixtures(
  extra: Pick<PartitionSnapshot, "maps" | "timers">,
  doneAbove: (committed: number) => CommitTrackerSnapshot["doneAbove"],
): CheckpointFixtures {
  const state = (count: number): PartitionSnapshot => ({
    values: { count: [["user-1", count, null]] },
    maps: structuredClone(extra.maps),
    timers: structuredClone(extra.timers),
  });
  const offsets = (
    topic: string,
    partition: number,
    committed: number,
  ): CommitTrackerSnapshot => ({
    topic,
    partition,
    committed,
    doneAbove: doneAbove(committed),
  });
  return {
    state,
    offsets,
    piece: (topic, partition, count, committed) => ({
      topic,
      partition,
      state: state(count),
      offsets: offsets(topic, partition, committed),
    }),
  };
}
