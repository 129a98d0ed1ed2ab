import {
  CheckpointFencedError,
  type CheckpointPiece,
  type CheckpointStore,
  type FencedPartition,
  type StoredCheckpoint,
} from "../connectors/checkpoint-store.js";

/** A {@link CheckpointStore} in process memory, with a count of saves for tests. */
export interface MemoryCheckpointStore extends CheckpointStore {
  /** Number of successful `saveCheckpoint` calls. */
  readonly saves: number;
}

/**
 * The embedded checkpoint store: pieces are deep-copied in and out, and a save replaces
 * every piece at once, as the durable stores do in one transaction or logged batch; a piece
 * whose epoch is not its partition's latest claim fails the whole save (fencing). It
 * lives as long as the process, so it survives a job restart inside one process (tests,
 * `sluice demo`), not a crash of the process: use PostgreSQL or Cassandra for that.
 *
 * @example
 * ```ts
 * const store = memoryCheckpointStore();
 * await store.saveCheckpoint("count", [{ topic: "events", partition: 0, state, offsets }]);
 * ```
 */
export function memoryCheckpointStore(): MemoryCheckpointStore {
  const rows = new Map<string, StoredCheckpoint>();
  const epochs = new Map<string, number>();
  const id = (job: string, topic: string, partition: number): string =>
    JSON.stringify([job, topic, partition]);
  let saves = 0;
  return {
    get saves() {
      return saves;
    },
    saveCheckpoint(job: string, pieces: readonly CheckpointPiece[]) {
      const fenced: FencedPartition[] = [];
      for (const p of pieces) {
        if (p.epoch === undefined) continue;
        const ownerEpoch = epochs.get(id(job, p.topic, p.partition)) ?? 0;
        if (p.epoch !== ownerEpoch)
          fenced.push({
            topic: p.topic,
            partition: p.partition,
            epoch: p.epoch,
            ownerEpoch,
          });
      }
      if (fenced.length > 0)
        return Promise.reject(new CheckpointFencedError(job, fenced));
      const updatedAt = new Date();
      const copies = pieces.map((p) => ({
        ...structuredClone(p),
        updatedAt,
      }));
      for (const c of copies) rows.set(id(job, c.topic, c.partition), c);
      saves += 1;
      return Promise.resolve();
    },
    claimCheckpoint(job: string, topic: string, partition: number) {
      const key = id(job, topic, partition);
      const epoch = (epochs.get(key) ?? 0) + 1;
      epochs.set(key, epoch);
      return Promise.resolve(epoch);
    },
    loadCheckpoint(job: string, topic: string, partition: number) {
      const row = rows.get(id(job, topic, partition));
      return Promise.resolve(
        row === undefined ? undefined : structuredClone(row),
      );
    },
  };
}
