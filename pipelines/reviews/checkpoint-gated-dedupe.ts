import { defer, from, lastValueFrom, of } from "rxjs";
import type { DedupeStore } from "../../operators/dedupe.js";
import type {
  StateBackend,
  StateSnapshot,
} from "../../operators/state-backend.js";

/** The id {@link checkpointGatedDedupe} expects: the record's state partition, `|`, its event id. */
export const gatedId = (partition: string, eventId: string): string =>
  `${partition}|${eventId}`;

const partitionOfId = (id: string): string => id.slice(0, id.indexOf("|"));

/** What {@link checkpointGatedDedupe} returns. */
export interface CheckpointGatedDedupe {
  /** Give this to `dedupe({ store })`. */
  readonly store: DedupeStore;
  /** Give this to `keyedProcess` and to `ctx.addSource(source, { state })`. */
  readonly backend: StateBackend;
  /** Writes the confirms of every checkpoint taken so far (call after the final checkpoint). */
  flush(): Promise<void>;
  /** Confirms waiting for a checkpoint, and waiting to be written after one. */
  readonly pending: { readonly uncovered: number; readonly covered: number };
}

/**
 * Makes a far processed-id cache (C.7) safe for a job whose effects live in checkpointed
 * keyed state. `dedupe` confirms an id when the record's outputs are written, but the
 * record's effect on the state is durable only once a checkpoint holding it is saved; if the
 * job dies in between, the restart replays the record from the checkpoint's offsets, and a
 * far cache that already says "processed" would drop it, losing its effect for good.
 *
 * So confirms are held back: `store.confirm` only notes the id (the far claim, with its
 * claim TTL, keeps other instances off it meanwhile). When the checkpoint coordinator
 * snapshots the backend, the ids of the snapshotted partitions confirmed so far are covered by
 * that checkpoint; they are written to the far store at the next snapshot, when the
 * coordinator (which runs checkpoints one after another) has finished saving it, or by
 * {@link CheckpointGatedDedupe.flush} after the final checkpoint. A crash before that leaves
 * only claims, which expire after the claim TTL, and the replayed records run again against
 * the restored state (which must be idempotent, as the reviews job's is).
 *
 * Ids must carry their state partition ({@link gatedId}). Not covered: a checkpoint whose
 * save fails is taken for saved at the next snapshot.
 *
 * @example
 * ```ts
 * const gated = checkpointGatedDedupe(memcachedDedupeStore(…), memoryStateBackend());
 * const source = ctx.addSource(kafkaSource(…), { state: gated.backend });
 * source.records().pipe(dedupe({ idOf: (r) => gatedId(statePartitionOf(r.origin), r.value.id), store: gated.store, ttlMs }), …);
 * ```
 */
export function checkpointGatedDedupe(
  far: DedupeStore,
  inner: StateBackend,
): CheckpointGatedDedupe {
  /** Confirmed ids not yet in any snapshot, by state partition: id → ttl. */
  const uncovered = new Map<string, Map<string, number>>();
  /** Ids in the last snapshot, written once its save is over. */
  let covered = new Map<string, number>();

  const write = (ids: Map<string, number>): Promise<void> =>
    Promise.all(
      [...ids].map(([id, ttl]) =>
        // A failed confirm leaves the claim to expire: the id may run again, which the
        // state absorbs.
        lastValueFrom(far.confirm(id, ttl), { defaultValue: undefined }).catch(
          () => undefined,
        ),
      ),
    ).then(() => undefined);

  const cover = (partitions: readonly string[] | undefined): void => {
    const previous = covered;
    covered = new Map();
    void write(previous);
    for (const p of partitions ?? [...uncovered.keys()]) {
      const ids = uncovered.get(p);
      if (ids === undefined) continue;
      for (const [id, ttl] of ids) covered.set(id, ttl);
      uncovered.delete(p);
    }
  };

  const store: DedupeStore = {
    // An id confirmed here and not yet written is this process's to answer: a duplicate.
    claim: (id, ttlMs) =>
      defer(() =>
        covered.has(id) || uncovered.get(partitionOfId(id))?.has(id) === true
          ? of("confirmed" as const)
          : far.claim(id, ttlMs),
      ),
    confirm: (id, ttlMs) =>
      defer(() => {
        const p = partitionOfId(id);
        let ids = uncovered.get(p);
        if (ids === undefined) {
          ids = new Map();
          uncovered.set(p, ids);
        }
        ids.set(id, ttlMs);
        return of(undefined);
      }),
    release: (id) =>
      defer(() => {
        uncovered.get(partitionOfId(id))?.delete(id);
        return far.release(id);
      }),
  };

  const backend: StateBackend = {
    getValue: (...a) => inner.getValue(...a),
    setValue: (...a) => inner.setValue(...a),
    clearValue: (...a) => inner.clearValue(...a),
    getMapEntry: (...a) => inner.getMapEntry(...a),
    setMapEntry: (...a) => inner.setMapEntry(...a),
    deleteMapEntry: (...a) => inner.deleteMapEntry(...a),
    mapEntries: (...a) => inner.mapEntries(...a),
    clearMap: (...a) => inner.clearMap(...a),
    registerTimer: (...a) => inner.registerTimer(...a),
    deleteTimer: (...a) => inner.deleteTimer(...a),
    nextTimer: (...a) => inner.nextTimer(...a),
    pollTimer: (...a) => inner.pollTimer(...a),
    expire: (...a) => inner.expire(...a),
    partitions: () => inner.partitions(),
    ...(inner.onRestore !== undefined
      ? { onRestore: (listener: () => void) => inner.onRestore!(listener) }
      : {}),
    ...(inner.holdOutput !== undefined
      ? { holdOutput: () => inner.holdOutput!() }
      : {}),
    ...(inner.outputsInFlight !== undefined
      ? { outputsInFlight: () => inner.outputsInFlight!() }
      : {}),
    snapshot: (partitions?: readonly string[]): StateSnapshot => {
      cover(partitions);
      return inner.snapshot(partitions);
    },
    restore: (snapshot: StateSnapshot) => {
      // Confirms of effects the restored state does not hold must never be written.
      for (const p of Object.keys(snapshot.partitions)) uncovered.delete(p);
      inner.restore(snapshot);
    },
    dropPartition: (partition: string) => {
      uncovered.delete(partition);
      inner.dropPartition(partition);
    },
  };

  return {
    store,
    backend,
    flush: () => {
      const previous = covered;
      covered = new Map();
      return write(previous);
    },
    get pending() {
      let n = 0;
      for (const ids of uncovered.values()) n += ids.size;
      return { uncovered: n, covered: covered.size };
    },
  };
}

/** For tests: a far store in memory that records what was confirmed. */
export function recordingDedupeStore(): DedupeStore & {
  readonly confirmed: Set<string>;
} {
  const confirmed = new Set<string>();
  const claimed = new Set<string>();
  return {
    confirmed,
    claim: (id) =>
      from([
        confirmed.has(id)
          ? ("confirmed" as const)
          : claimed.has(id)
            ? ("exists" as const)
            : (claimed.add(id), "claimed" as const),
      ]),
    confirm: (id) =>
      defer(() => {
        claimed.delete(id);
        confirmed.add(id);
        return of(undefined);
      }),
    release: (id) =>
      defer(() => {
        claimed.delete(id);
        return of(undefined);
      }),
  };
}
