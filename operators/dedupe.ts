import { LRUCache } from "lru-cache";
import {
  asyncScheduler,
  defer,
  filter,
  map,
  Observable,
  of,
  retry,
  Subscription,
  take,
  throwError,
  timer,
  type OperatorFunction,
  type SchedulerLike,
} from "rxjs";
import { countedAck } from "./internal/counted-ack.js";
import { laneExecutor, type Ordering } from "./internal/lane-executor.js";
import { positiveInteger, positiveNumber } from "./internal/options.js";
import { timeoutAfter } from "./internal/timeout.js";
import type { Outcome } from "./outcome.js";
import type { PressureGauge } from "./pressure-gauge.js";
import type { Record } from "./record.js";
import { SluiceError } from "./sluice-error.js";

/** What a far store says to a claim: ours now, someone else's claim in flight, or already done. */
export type ClaimResult = "claimed" | "exists" | "confirmed";

/**
 * The far tier of {@link dedupe}: memcached, Cassandra or memory implement it. `claim` must be
 * atomic (add-if-absent / lightweight transaction); a claim expires after its TTL so a
 * crashed worker never holds an id for long.
 */
export interface DedupeStore {
  claim(id: string, ttlMs: number): Observable<ClaimResult>;
  confirm(id: string, ttlMs: number): Observable<void>;
  release(id: string): Observable<void>;
}

/**
 * What {@link dedupe} did; the runtime exports these as metrics.
 *
 * @example
 * ```ts
 * const op = dedupe({ idOf: (r) => r.value.id, store, ttlMs: 86_400_000 });
 * metrics.dedupeHits.set(op.counters.hits);
 * ```
 */
export class DedupeCounters {
  /** Duplicates dropped (acked), near-cache hits included. */
  hits = 0;
  /** Duplicates answered by the near cache without a store call. */
  nearHits = 0;
  /** Ids claimed and passed downstream. */
  claimed = 0;
  /** Ids confirmed after their descendants were all acked. */
  confirmed = 0;
  /** Claims released after a descendant was nacked. */
  released = 0;
  /** Records nacked because the store failed, timed out or a claim stayed pending too long. */
  errors = 0;
  /** Confirms or releases that failed (the record was still settled; the claim expires by TTL). */
  settleErrors = 0;
}

/** Options of {@link dedupe}. */
export interface DedupeOptions<T> {
  /** The idempotency id of a record (deterministic: an event id, a hash of the payload). */
  readonly idOf: (record: Record<T>) => string;
  readonly store: DedupeStore;
  /** How long a confirmed id is remembered, in the store and in the near cache. */
  readonly ttlMs: number;
  /** How long a claim lives without a confirm; after a crash the id is free again after this. Default 60 000. */
  readonly claimTtlMs?: number;
  /** While another claim on the id is in flight, ask again after this long. Default 100. */
  readonly pendingRetryMs?: number;
  /** Give up waiting on another claim after this long and nack the record (retryable CONFLICT). Default `claimTtlMs`. */
  readonly pendingWaitMs?: number;
  /** Near cache of confirmed ids (lru-cache, TTL `ttlMs`); `0` turns it off. Default 10 000 ids. */
  readonly nearCacheSize?: number;
  /** Time allowed for a store call. Default 5 000. */
  readonly timeoutMs?: number;
  /** Claims in flight at once. Default 16. */
  readonly concurrency?: number;
  /** Order of claims (and so of output). Default `key`. */
  readonly ordering?: Ordering;
  /** Hard cap on records waiting to claim. Default 1000. */
  readonly maxBuffered?: number;
  readonly gauge?: PressureGauge<Record<T>>;
  /** Clock for TTLs, retries and timeouts. Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
  /** Counters to update; one is created when omitted. Also on the returned operator. */
  readonly counters?: DedupeCounters;
}

/** The operator returned by {@link dedupe}, carrying its counters. */
export type DedupeOperator<T> = OperatorFunction<Record<T>, Record<T>> & {
  readonly counters: DedupeCounters;
};

const PENDING = new SluiceError(
  "CONFLICT",
  "another claim on this id is in flight",
  { retryable: true },
);

/**
 * Drops records whose idempotency id is already done, with at-least-once kept intact:
 * claim the id, let the record's downstream effect run, confirm the id only when every
 * descendant is acked, release it when one is nacked, so a failed effect is never taken
 * for done.
 *
 * Two tiers: a near lru-cache of confirmed ids, then the far {@link DedupeStore}. A
 * duplicate of a confirmed id is acked (a deliberate drop) and counted in `counters.hits`.
 * A duplicate that arrives while another claim on its id is in flight waits: it asks again
 * every `pendingRetryMs` until the claim is confirmed (then it is a duplicate), released
 * or expired (then it claims and runs), or `pendingWaitMs` passes (then it is nacked with a
 * retryable CONFLICT for the source to redeliver). A store error nacks the record.
 *
 * When the confirm itself fails after the effect succeeded, the record is still acked: the
 * effect happened and redelivering it would repeat it for certain; the claim expires after
 * `claimTtlMs`, and only a later duplicate could run again.
 *
 * @example
 * ```ts
 * records$.pipe(
 *   dedupe({ idOf: (r) => r.value.orderId, store: memcachedDedupeStore, ttlMs: 7 * 86_400_000, scheduler }),
 *   keyOrderedMap(sendEmail, { concurrency: 4 }),
 *   deadLetter({ policy: "DEAD_LETTER", sink }),
 * );
 * ```
 */
export function dedupe<T>(options: DedupeOptions<T>): DedupeOperator<T> {
  const { idOf, store } = options;
  const ttlMs = positiveNumber("dedupe", "ttlMs", options.ttlMs);
  const claimTtlMs = positiveNumber(
    "dedupe",
    "claimTtlMs",
    options.claimTtlMs ?? 60_000,
  );
  const pendingRetryMs = positiveNumber(
    "dedupe",
    "pendingRetryMs",
    options.pendingRetryMs ?? 100,
  );
  const pendingWaitMs = positiveNumber(
    "dedupe",
    "pendingWaitMs",
    options.pendingWaitMs ?? claimTtlMs,
  );
  const timeoutMs = positiveNumber(
    "dedupe",
    "timeoutMs",
    options.timeoutMs ?? 5_000,
  );
  const scheduler = options.scheduler ?? asyncScheduler;
  const counters = options.counters ?? new DedupeCounters();
  const nearSize = options.nearCacheSize ?? 10_000;
  // lru-cache treats a start time of 0 as "no TTL", so its clock runs 1 ms ahead of the
  // scheduler's (a virtual clock starts at 0).
  const near =
    nearSize === 0
      ? undefined
      : new LRUCache<string, true>({
          max: positiveInteger("dedupe", "nearCacheSize", nearSize),
          ttl: ttlMs,
          ttlResolution: 0,
          perf: { now: () => scheduler.now() + 1 },
        });

  const withTimeout = <V>(call: Observable<V>, what: string): Observable<V> =>
    call.pipe(timeoutAfter(timeoutMs, scheduler, `dedupe store ${what}`));

  type Verdict = {
    readonly id: string;
    readonly duplicate: boolean;
    readonly input: Record<T>;
  };
  const claim = (input: Record<T>): Observable<Verdict> =>
    defer(() => {
      const id = idOf(input);
      if (near?.has(id) === true) {
        counters.nearHits += 1;
        return of({ id, duplicate: true, input });
      }
      const started = scheduler.now();
      return defer(() =>
        withTimeout(store.claim(id, claimTtlMs).pipe(take(1)), "claim"),
      ).pipe(
        map((result) => {
          if (result === "exists") throw PENDING;
          if (result === "confirmed") near?.set(id, true);
          return { id, duplicate: result === "confirmed", input };
        }),
        retry({
          delay: (error: unknown) =>
            error !== PENDING
              ? throwError(() => error)
              : scheduler.now() - started + pendingRetryMs <= pendingWaitMs
                ? timer(pendingRetryMs, scheduler)
                : throwError(
                    () =>
                      new SluiceError(
                        "CONFLICT",
                        `id ${id} stayed claimed elsewhere for ${pendingWaitMs} ms`,
                        { retryable: true },
                      ),
                  ),
        }),
      );
    });

  const claims = laneExecutor<T, Verdict>({
    step: claim,
    ordering: options.ordering ?? "key",
    concurrency: positiveInteger(
      "dedupe",
      "concurrency",
      options.concurrency ?? 16,
    ),
    maxBuffered: positiveInteger(
      "dedupe",
      "maxBuffered",
      options.maxBuffered ?? 1000,
    ),
    timeoutMs: undefined,
    scheduler,
    stage: "process",
    gauge: options.gauge,
    park: false,
    name: "dedupe",
  });

  const operator: OperatorFunction<Record<T>, Record<T>> = (source) =>
    new Observable<Record<T>>((subscriber) => {
      // Confirms and releases run when downstream settles a record, possibly after this
      // stream completed; they are cancelled only if the subscriber leaves early.
      const settling = new Subscription();
      let completed = false;
      const settle = (
        call: Observable<void>,
        what: string,
        then: () => void,
      ): void => {
        let once = false;
        const finish = (): void => {
          if (once) return;
          once = true;
          then();
        };
        const sub = new Subscription();
        settling.add(sub);
        sub.add(
          withTimeout(call, what).subscribe({
            next: finish,
            complete: () => {
              settling.remove(sub);
              finish();
            },
            error: () => {
              counters.settleErrors += 1;
              settling.remove(sub);
              finish();
            },
          }),
        );
      };

      const pass = (o: Outcome<T, Verdict>): Record<T> | undefined => {
        if (o.kind === "failed") {
          counters.errors += 1;
          o.record.ack.nack(o.error);
          return undefined;
        }
        const { id, duplicate, input } = o.record.value;
        const parent = input.ack;
        if (duplicate) {
          counters.hits += 1;
          parent.ack();
          return undefined;
        }
        counters.claimed += 1;
        const ack = countedAck({
          done: () =>
            settle(store.confirm(id, ttlMs), "confirm", () => {
              counters.confirmed += 1;
              near?.set(id, true);
              parent.ack();
            }),
          failed: (error) => {
            counters.released += 1;
            settle(store.release(id), "release", () => undefined);
            parent.nack(error);
          },
        });
        return { ...input, ack };
      };

      const inner = source
        .pipe(
          claims,
          map(pass),
          filter((r): r is Record<T> => r !== undefined),
        )
        .subscribe({
          next: (r) => subscriber.next(r),
          error: (e: unknown) => subscriber.error(e),
          complete: () => {
            completed = true;
            subscriber.complete();
          },
        });
      return () => {
        inner.unsubscribe();
        if (!completed) settling.unsubscribe();
      };
    });
  return Object.assign(operator, { counters });
}
