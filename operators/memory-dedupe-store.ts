import {
  asyncScheduler,
  defer,
  of,
  type Observable,
  type SchedulerLike,
} from "rxjs";
import type { ClaimResult, DedupeStore } from "./dedupe.js";
import { positiveInteger } from "./internal/options.js";

/** Options of {@link memoryDedupeStore}. */
export interface MemoryDedupeStoreOptions {
  /** Clock for TTLs. Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
  /** Most ids kept; expired ids are swept first, then the oldest go. Default 100 000. */
  readonly maxEntries?: number;
}

interface Entry {
  state: "claimed" | "confirmed";
  expiresAt: number;
}

/** A {@link DedupeStore} in process memory, with its calls counted: for tests and the embedded demo. */
export interface MemoryDedupeStore extends DedupeStore {
  /** State of an id now, `undefined` if unknown or expired. */
  stateOf(id: string): "claimed" | "confirmed" | undefined;
  /** Calls made so far, per operation. */
  readonly calls: { claim: number; confirm: number; release: number };
}

/**
 * An in-memory far store for {@link dedupe}: claims expire after their TTL, confirmed ids
 * after theirs; bounded by `maxEntries`.
 *
 * @example
 * ```ts
 * const store = memoryDedupeStore({ scheduler });
 * records$.pipe(dedupe({ idOf: (r) => r.value.eventId, store, ttlMs: 86_400_000 }));
 * ```
 */
export function memoryDedupeStore(
  options: MemoryDedupeStoreOptions = {},
): MemoryDedupeStore {
  const scheduler = options.scheduler ?? asyncScheduler;
  const maxEntries = positiveInteger(
    "memoryDedupeStore",
    "maxEntries",
    options.maxEntries ?? 100_000,
  );
  const entries = new Map<string, Entry>();
  const calls = { claim: 0, confirm: 0, release: 0 };

  const live = (id: string): Entry | undefined => {
    const e = entries.get(id);
    if (e !== undefined && e.expiresAt <= scheduler.now()) {
      entries.delete(id);
      return undefined;
    }
    return e;
  };
  const put = (id: string, entry: Entry): void => {
    entries.delete(id);
    if (entries.size >= maxEntries) {
      const now = scheduler.now();
      for (const [k, e] of entries) if (e.expiresAt <= now) entries.delete(k);
      while (entries.size >= maxEntries)
        entries.delete(entries.keys().next().value!);
    }
    entries.set(id, entry);
  };

  return {
    calls,
    stateOf: (id) => live(id)?.state,
    claim: (id: string, ttlMs: number): Observable<ClaimResult> =>
      defer(() => {
        calls.claim += 1;
        const e = live(id);
        if (e !== undefined)
          return of(
            e.state === "confirmed"
              ? ("confirmed" as const)
              : ("exists" as const),
          );
        put(id, { state: "claimed", expiresAt: scheduler.now() + ttlMs });
        return of("claimed" as const);
      }),
    confirm: (id: string, ttlMs: number): Observable<void> =>
      defer(() => {
        calls.confirm += 1;
        put(id, { state: "confirmed", expiresAt: scheduler.now() + ttlMs });
        return of(undefined);
      }),
    release: (id: string): Observable<void> =>
      defer(() => {
        calls.release += 1;
        if (live(id)?.state === "claimed") entries.delete(id);
        return of(undefined);
      }),
  };
}
