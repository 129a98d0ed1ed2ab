import { defer, from, lastValueFrom, map, of } from "rxjs";
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
  /** Give this to `dedupe({ store, nearCacheSize: 0 })`: its own near tier is the live state's. */
  readonly store: DedupeStore;
  /** Give this to `keyedProcess` and to `ctx.addSource(source, { state })`. */
  readonly backend: StateBackend;
  /** Resolves when every confirm of a saved checkpoint has been written (call after the final checkpoint). */
  flush(): Promise<void>;
  /**
   * Confirms not yet in any snapshot (`unsaved`), and in a snapshot whose save is not over
   * yet (`saving`).
   */
  readonly pending: { readonly unsaved: number; readonly saving: number };
}

/** Options of {@link checkpointGatedDedupe}. */
export interface CheckpointGatedDedupeOptions {
  /**
   * For the chaos suite only: write each confirm to the far store at once, as the job did
   * before the snapshot was made consistent. Breaks the guarantee on purpose (a restore then
   * meets "processed" marks of effects its state lacks, and drops those records). Default false.
   */
  readonly unsafeConfirmBeforeCheckpoint?: boolean;
}

type Ids = Map<string, number>;

/**
 * Makes a far processed-id cache (C.7) safe for a job whose effects live in checkpointed
 * keyed state, so that a record counts as processed only once the state holding its effect
 * is durable. `dedupe` confirms an id when the record's outputs are written, but its effect
 * on the state is durable only once a checkpoint holding it is saved; a far cache that says
 * "processed" any earlier would, after a restore from an older checkpoint (a crash, a failed
 * or fenced save, a rebalance that moved the partition), drop the replayed record and lose
 * its effect for good.
 *
 * So `store.confirm` only notes the id, per state partition. When the checkpoint coordinator
 * snapshots a partition, the ids noted so far go with that snapshot; they are written to the
 * far store only when the coordinator says the snapshot was saved
 * (`StateBackend.checkpointSaved`). If the save failed they wait for the next snapshot
 * (`checkpointAborted`), and if the partition was fenced, revoked or restored, they are
 * forgotten with its state (the effects they stood for are gone too).
 *
 * Claims follow ownership. Ids carry their state partition ({@link gatedId}), and a
 * partition is processed only by the instance holding its checkpoint claim (the epoch the
 * coordinator keeps; a zombie's saves are refused, its state dropped). So a far claim by
 * another process is a previous owner's (departed, SIGKILLed, fenced): what it did is
 * either in the restored checkpoint, whose ids it confirmed or will confirm, or lost with it.
 * Such a claim is therefore taken over at once instead of waited on for the claim TTL. Only
 * this process's own claims in flight make a duplicate wait.
 *
 * What the far cache guarantees: an id it calls processed has its effect in every checkpoint
 * a later owner can restore. What it does not: after a crash between a save and the write of
 * its confirms, a later duplicate of such an id (same event id, later offset) reaches the
 * state again, which must absorb it (the reviews job's state keeps `reviewId@version`).
 * Do not put `dedupe`'s own near cache in front (`nearCacheSize: 0`): it would remember ids
 * across a restore that threw their effects away.
 *
 * @example
 * ```ts
 * const gated = checkpointGatedDedupe(memcachedDedupeStore(…), memoryStateBackend());
 * const source = ctx.addSource(kafkaSource(…), { state: gated.backend });
 * source.records().pipe(dedupe({ idOf: (r) => gatedId(statePartitionOf(r.origin), r.value.id), store: gated.store, ttlMs, nearCacheSize: 0 }), …);
 * ```
 */
export function checkpointGatedDedupe(
  far: DedupeStore,
  inner: StateBackend,
  options: CheckpointGatedDedupeOptions = {},
): CheckpointGatedDedupe {
  const unsafe = options.unsafeConfirmBeforeCheckpoint === true;
  /** Confirmed here, in no snapshot yet: partition → id → ttl. */
  const unsaved = new Map<string, Ids>();
  /** In the last snapshot of the partition, its save not over yet. */
  const saving = new Map<string, Ids>();
  /** Claimed by this process and not yet confirmed or released. */
  const claimedHere = new Map<string, Set<string>>();
  const writes = new Set<Promise<void>>();

  const inside = (m: Map<string, Ids>, id: string): boolean =>
    m.get(partitionOfId(id))?.has(id) === true;
  const add = (m: Map<string, Ids>, p: string, id: string, ttl: number) => {
    let ids = m.get(p);
    if (ids === undefined) {
      ids = new Map();
      m.set(p, ids);
    }
    ids.set(id, ttl);
  };
  const write = (ids: Ids): void => {
    if (ids.size === 0) return;
    const task = Promise.all(
      [...ids].map(([id, ttl]) =>
        // A failed confirm leaves the id unconfirmed: a later duplicate runs again, which
        // the state absorbs.
        lastValueFrom(far.confirm(id, ttl), { defaultValue: undefined }).catch(
          () => undefined,
        ),
      ),
    ).then(() => undefined);
    writes.add(task);
    void task.finally(() => writes.delete(task));
  };
  const forget = (p: string): void => {
    unsaved.delete(p);
    saving.delete(p);
    claimedHere.delete(p);
  };

  const store: DedupeStore = {
    claim: (id, ttlMs) =>
      defer(() => {
        // Confirmed here and not yet written: this process answers, a duplicate.
        if (inside(unsaved, id) || inside(saving, id))
          return of("confirmed" as const);
        const p = partitionOfId(id);
        // Our own record with this id is still on its way: wait for its outcome.
        if (claimedHere.get(p)?.has(id) === true) return of("exists" as const);
        return far.claim(id, ttlMs).pipe(
          map((result) => {
            if (result === "confirmed") return result;
            // "exists": a previous owner's claim (see above), taken over.
            let mine = claimedHere.get(p);
            if (mine === undefined) {
              mine = new Set();
              claimedHere.set(p, mine);
            }
            mine.add(id);
            return "claimed" as const;
          }),
        );
      }),
    confirm: (id, ttlMs) =>
      defer(() => {
        const p = partitionOfId(id);
        claimedHere.get(p)?.delete(id);
        if (unsafe) return far.confirm(id, ttlMs);
        add(unsaved, p, id, ttlMs);
        return of(undefined);
      }),
    release: (id) =>
      defer(() => {
        const p = partitionOfId(id);
        claimedHere.get(p)?.delete(id);
        unsaved.get(p)?.delete(id);
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
      // The coordinator snapshots at a drained barrier: every id noted so far has its
      // effect in this snapshot, and no record with an effect in it lacks its id.
      for (const p of partitions ?? [...unsaved.keys()]) {
        const ids = unsaved.get(p);
        if (ids === undefined) continue;
        unsaved.delete(p);
        for (const [id, ttl] of ids) add(saving, p, id, ttl);
      }
      return inner.snapshot(partitions);
    },
    checkpointSaved: (partitions) => {
      for (const p of partitions) {
        const ids = saving.get(p);
        if (ids === undefined) continue;
        saving.delete(p);
        write(ids);
      }
    },
    checkpointAborted: (partitions) => {
      // Not durable: the next snapshot of the partition (if it is still ours) covers them.
      for (const p of partitions) {
        const ids = saving.get(p);
        if (ids === undefined) continue;
        saving.delete(p);
        for (const [id, ttl] of ids) add(unsaved, p, id, ttl);
      }
    },
    restore: (snapshot: StateSnapshot) => {
      // Confirms of effects the restored state does not hold must never be written.
      for (const p of Object.keys(snapshot.partitions)) forget(p);
      inner.restore(snapshot);
    },
    dropPartition: (partition: string) => {
      forget(partition);
      inner.dropPartition(partition);
    },
  };

  return {
    store,
    backend,
    flush: async () => {
      while (writes.size > 0) await Promise.all([...writes]);
    },
    get pending() {
      let a = 0;
      for (const ids of unsaved.values()) a += ids.size;
      let b = 0;
      for (const ids of saving.values()) b += ids.size;
      return { unsaved: a, saving: b };
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
