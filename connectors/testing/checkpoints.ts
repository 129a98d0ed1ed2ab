import type { CommitTrackerSnapshot } from "../../operators/commit-tracker.js";
import type { PartitionSnapshot } from "../../operators/state-backend.js";
import { expect } from "vitest";
import {
  CheckpointFencedError,
  type CheckpointPiece,
  type CheckpointStore,
} from "../checkpoint-store.js";

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

/**
 * The fencing contract every durable {@link CheckpointStore} keeps (a fresh job name per
 * call): claims count up per partition, also when made at once; a save with an epoch older
 * than the latest claim is refused with {@link CheckpointFencedError} and leaves the stored
 * checkpoint as it was; the latest claimant saves; a claim alone is no checkpoint.
 */
export async function expectCheckpointFencing(
  store: CheckpointStore,
  piece: CheckpointFixtures["piece"],
): Promise<void> {
  const job = `fence-${Math.random().toString(36).slice(2, 10)}`;
  const first = await store.claimCheckpoint(job, "t", 0);
  expect(first).toBe(1);
  expect(await store.loadCheckpoint(job, "t", 0)).toBeUndefined();
  await store.saveCheckpoint(job, [{ ...piece("t", 0, 1, 10), epoch: first }]);
  const second = await store.claimCheckpoint(job, "t", 0);
  expect(second).toBe(2);
  const refused = await store
    .saveCheckpoint(job, [{ ...piece("t", 0, 5, 50), epoch: first }])
    .then(
      () => undefined,
      (e: unknown) => e,
    );
  expect(refused).toBeInstanceOf(CheckpointFencedError);
  expect((refused as CheckpointFencedError).fenced).toEqual([
    { topic: "t", partition: 0, epoch: 1, ownerEpoch: 2 },
  ]);
  expect((await store.loadCheckpoint(job, "t", 0))?.offsets.committed).toBe(10);
  await store.saveCheckpoint(job, [{ ...piece("t", 0, 7, 70), epoch: second }]);
  expect((await store.loadCheckpoint(job, "t", 0))?.offsets.committed).toBe(70);

  // Five instances claim one partition at once: five epochs, only the last one saves.
  const epochs = await Promise.all(
    Array.from({ length: 5 }, () => store.claimCheckpoint(job, "t", 1)),
  );
  expect([...epochs].sort()).toEqual([1, 2, 3, 4, 5]);
  for (const epoch of [1, 2, 3, 4])
    await expect(
      store.saveCheckpoint(job, [{ ...piece("t", 1, 1, 1), epoch }]),
    ).rejects.toBeInstanceOf(CheckpointFencedError);
  await store.saveCheckpoint(job, [{ ...piece("t", 1, 2, 2), epoch: 5 }]);
  expect((await store.loadCheckpoint(job, "t", 1))?.offsets.committed).toBe(2);
}
