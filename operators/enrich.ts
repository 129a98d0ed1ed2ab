import { LRUCache } from "lru-cache";
import {
  asyncScheduler,
  defer,
  finalize,
  map,
  type Observable,
  type OperatorFunction,
  type SchedulerLike,
} from "rxjs";
import { BatchLoader, type Cached } from "./internal/batch-loader.js";
import { laneExecutor, type Ordering } from "./internal/lane-executor.js";
import { positiveInteger, positiveNumber } from "./internal/options.js";
import type { Outcome } from "./outcome.js";
import type { PressureGauge } from "./pressure-gauge.js";
import type { Record } from "./record.js";

/** Options of {@link enrich}. */
export interface EnrichOptions<T, K extends NonNullable<unknown>, V, R> {
  /** The lookup key of a record (a user id, a movie id). */
  readonly keyOf: (record: Record<T>) => K;
  /** Looks up many keys in one call; keys absent from the map are misses. Provided by a connector. */
  readonly lookup: (keys: readonly K[]) => Observable<ReadonlyMap<K, V>>;
  /** Builds the enriched value; `found` is `undefined` on a miss. */
  readonly combine: (record: Record<T>, found: V | undefined) => R;
  /** Keys per lookup call. Default 100. */
  readonly maxBatch?: number;
  /** Longest a key waits for its batch to fill. Default 10. */
  readonly maxWaitMs?: number;
  /** Entries in the near cache; `0` turns it off. Default 10 000. */
  readonly cacheSize?: number;
  /** Time a found value stays cached. Default 60 000. */
  readonly cacheTtlMs?: number;
  /** Time a miss stays cached; default: misses are not cached. */
  readonly negativeTtlMs?: number;
  /** Time allowed for one record's lookup, batching wait included; a late one fails with a retryable TIMEOUT. Default 5 000. */
  readonly timeoutMs?: number;
  /** Records being looked up at once (so also the largest batch). Default `maxBatch`. */
  readonly concurrency?: number;
  /** Default `key`. */
  readonly ordering?: Ordering;
  /** Hard cap on records waiting for a slot. Default 1000. */
  readonly maxBuffered?: number;
  readonly gauge?: PressureGauge<Record<T>>;
  /** Clock for batching, cache TTLs and timeouts. Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
}

/**
 * Enriches each record with a value looked up by key: lookups are batched (up to `maxBatch`
 * keys or `maxWaitMs`, whichever first), answered from a near lru-cache with TTL when
 * possible (misses optionally cached too), bounded, timed out, and ordered like
 * {@link keyOrderedMap}. A failed lookup becomes a `failed` outcome at stage `enrich`.
 *
 * @example
 * ```ts
 * reviews$.pipe(
 *   enrich({
 *     keyOf: (r) => r.value.userId,
 *     lookup: (ids) => users.getMany(ids),
 *     combine: (r, user) => ({ ...r.value, userName: user?.name ?? null }),
 *     maxBatch: 50, maxWaitMs: 5, cacheTtlMs: 30 * 86_400_000, scheduler,
 *   }),
 *   deadLetter({ policy: "DEAD_LETTER", sink }),
 * );
 * ```
 */
export function enrich<T, K extends NonNullable<unknown>, V, R>(
  options: EnrichOptions<T, K, V, R>,
): OperatorFunction<Record<T>, Outcome<T, R>> {
  const { keyOf, lookup, combine } = options;
  const maxBatch = positiveInteger(
    "enrich",
    "maxBatch",
    options.maxBatch ?? 100,
  );
  const maxWaitMs = positiveNumber(
    "enrich",
    "maxWaitMs",
    options.maxWaitMs ?? 10,
  );
  const cacheSize = options.cacheSize ?? 10_000;
  const cacheTtlMs = positiveNumber(
    "enrich",
    "cacheTtlMs",
    options.cacheTtlMs ?? 60_000,
  );
  const negativeTtlMs =
    options.negativeTtlMs === undefined
      ? undefined
      : positiveNumber("enrich", "negativeTtlMs", options.negativeTtlMs);
  const timeoutMs = positiveNumber(
    "enrich",
    "timeoutMs",
    options.timeoutMs ?? 5_000,
  );
  const concurrency = positiveInteger(
    "enrich",
    "concurrency",
    options.concurrency ?? maxBatch,
  );
  const maxBuffered = positiveInteger(
    "enrich",
    "maxBuffered",
    options.maxBuffered ?? 1000,
  );
  const scheduler = options.scheduler ?? asyncScheduler;
  // lru-cache reads a start time of 0 as "no TTL": its clock runs 1 ms ahead of a virtual one.
  const cache =
    cacheSize === 0
      ? undefined
      : new LRUCache<K, Cached<V>>({
          max: positiveInteger("enrich", "cacheSize", cacheSize),
          ttl: cacheTtlMs,
          ttlResolution: 0,
          perf: { now: () => scheduler.now() + 1 },
        });

  return (source) =>
    defer(() => {
      const loader = new BatchLoader<K, V>({
        lookup,
        maxBatch,
        maxWaitMs,
        scheduler,
        cache,
        negativeTtlMs,
      });
      return source.pipe(
        laneExecutor<T, R>({
          step: (r) =>
            defer(() => loader.get(keyOf(r))).pipe(
              map((found) => combine(r, found)),
            ),
          ordering: options.ordering ?? "key",
          concurrency,
          maxBuffered,
          timeoutMs,
          scheduler,
          stage: "enrich",
          gauge: options.gauge,
          park: false,
          name: "enrich",
        }),
        finalize(() => loader.close()),
      );
    });
}
