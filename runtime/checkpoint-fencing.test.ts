import { describe, expect, it } from "vitest";
import { MemoryLog } from "../connectors/memory/log.js";
import {
  CheckpointFencedError,
  type CheckpointPiece,
} from "../connectors/checkpoint-store.js";
import { memoryCheckpointStore } from "./memory-checkpoint-store.js";
import { TOPIC, startCountJob, waitUntil } from "./testing/count-job.js";

const append = (log: MemoryLog, n: number, from: number): void => {
  for (let i = 0; i < n; i++)
    log.append(TOPIC, { key: "a", value: from + i, timestamp: from + i });
};

describe("checkpoint fencing", () => {
  it("a zombie (dropped from the group, still running) cannot roll back the next owner's checkpoint", async () => {
    const log = new MemoryLog();
    log.createTopic(TOPIC, { partitions: 1 });
    append(log, 10, 0);
    const store = memoryCheckpointStore();

    const zombie = startCountJob(log, store);
    await waitUntil(() => zombie.caughtUp(1), 10_000, "the first owner");
    await zombie.coordinator.restored();
    expect(await zombie.coordinator.checkpoint()).toMatchObject({
      saved: true,
      partitions: 1,
    });
    // The group drops the member (a long GC pause, a lost network): its partition goes to a
    // new owner, but the process keeps running and does not know yet.
    await log.expel(zombie.source.member!);

    append(log, 5, 10);
    const owner = startCountJob(log, store);
    await waitUntil(() => owner.caughtUp(1), 10_000, "the new owner");
    await owner.coordinator.restored();
    expect(owner.counts(["a"], 1).get("a")).toBe(15);
    expect(await owner.coordinator.checkpoint()).toMatchObject({ saved: true });
    const newest = await store.loadCheckpoint("count", TOPIC, 0);
    expect(newest?.offsets.committed).toBe(15);

    // The zombie's next checkpoint (state at 10) is refused, the stored one stays the owner's.
    expect(await zombie.coordinator.checkpoint()).toEqual({
      saved: false,
      partitions: 0,
      skipped: "fenced",
    });
    expect((await store.loadCheckpoint("count", TOPIC, 0))?.offsets).toEqual(
      newest?.offsets,
    );
    // …and it has dropped the partition's state, so it does no more for it.
    expect(zombie.counts(["a"], 1).get("a")).toBeUndefined();
    // The owner goes on checkpointing under its own claim.
    append(log, 1, 15);
    await waitUntil(() => owner.caughtUp(1), 10_000, "the owner again");
    expect(await owner.coordinator.checkpoint()).toMatchObject({ saved: true });
    expect(
      (await store.loadCheckpoint("count", TOPIC, 0))?.offsets.committed,
    ).toBe(16);

    owner.coordinator.close();
    await owner.source.close();
    owner.subscription.unsubscribe();
    zombie.coordinator.close();
    zombie.subscription.unsubscribe();
  });

  it("a save refused for some partitions writes the others and counts as saved", async () => {
    const log = new MemoryLog();
    log.createTopic(TOPIC, { partitions: 2 });
    for (let i = 0; i < 20; i++)
      log.append(TOPIC, {
        key: i % 2 === 0 ? "a" : "b",
        value: i,
        timestamp: i,
      });
    const store = memoryCheckpointStore();
    const job = startCountJob(log, store);
    await waitUntil(() => job.caughtUp(2), 10_000, "catch-up");
    await job.coordinator.restored();
    const owned = job.source.snapshot().map((s) => s.partition);
    expect(owned.sort()).toEqual([0, 1]);
    // Another instance claims partition 1 only.
    await store.claimCheckpoint("count", TOPIC, 1);
    const result = await job.coordinator.checkpoint();
    expect(result).toEqual({ saved: true, partitions: 1 });
    expect(await store.loadCheckpoint("count", TOPIC, 0)).toBeDefined();
    expect(await store.loadCheckpoint("count", TOPIC, 1)).toBeUndefined();
    job.coordinator.close();
    await job.source.close();
    job.subscription.unsubscribe();
  });
});

describe("memoryCheckpointStore fencing", () => {
  const piece = (partition: number, epoch?: number): CheckpointPiece => ({
    topic: "t",
    partition,
    state: { values: {}, maps: {}, timers: { event: [], processing: [] } },
    offsets: { topic: "t", partition, committed: 3, doneAbove: [] },
    ...(epoch === undefined ? {} : { epoch }),
  });

  it("claims count up per partition; a stale epoch fails the whole save and writes nothing", async () => {
    const store = memoryCheckpointStore();
    expect(await store.claimCheckpoint("j", "t", 0)).toBe(1);
    expect(await store.claimCheckpoint("j", "t", 0)).toBe(2);
    expect(await store.claimCheckpoint("j", "t", 1)).toBe(1);
    const refused = await store
      .saveCheckpoint("j", [piece(1, 1), piece(0, 1)])
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(refused).toBeInstanceOf(CheckpointFencedError);
    expect((refused as CheckpointFencedError).fenced).toEqual([
      { topic: "t", partition: 0, epoch: 1, ownerEpoch: 2 },
    ]);
    expect((refused as CheckpointFencedError).message).toContain(
      "t[0] (epoch 1, owner 2)",
    );
    expect(await store.loadCheckpoint("j", "t", 1)).toBeUndefined();
    await store.saveCheckpoint("j", [piece(1, 1), piece(0, 2)]);
    expect(await store.loadCheckpoint("j", "t", 0)).toBeDefined();
    // Without an epoch a piece is written unconditionally.
    await store.saveCheckpoint("j", [piece(5)]);
    expect(await store.loadCheckpoint("j", "t", 5)).toBeDefined();
  });
});
