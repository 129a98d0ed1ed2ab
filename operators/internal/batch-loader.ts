import type { LRUCache } from "lru-cache";
import {
  Observable,
  Subscription,
  take,
  type SchedulerLike,
  type Subscriber,
} from "rxjs";

/** A cached lookup answer; `value: undefined` is a cached miss. */
export interface Cached<V> {
  readonly value: V | undefined;
}

/** Options of a {@link BatchLoader}. */
export interface BatchLoaderOptions<K extends NonNullable<unknown>, V> {
  readonly lookup: (keys: readonly K[]) => Observable<ReadonlyMap<K, V>>;
  readonly maxBatch: number;
  readonly maxWaitMs: number;
  readonly scheduler: SchedulerLike;
  readonly cache: LRUCache<K, Cached<V>> | undefined;
  /** TTL of a cached miss; `undefined`: misses are not cached. */
  readonly negativeTtlMs: number | undefined;
}

/**
 * Collects single-key gets into batch lookups: a batch goes out when it holds `maxBatch`
 * keys or `maxWaitMs` after its first key, whichever comes first. Keys already cached are
 * answered at once. Its size is bounded by its callers (each get is one running step).
 */
export class BatchLoader<K extends NonNullable<unknown>, V> {
  private pending = new Map<K, Subscriber<V | undefined>[]>();
  private timer: Subscription | undefined;
  private readonly running = new Subscription();

  constructor(private readonly options: BatchLoaderOptions<K, V>) {}

  get(key: K): Observable<V | undefined> {
    return new Observable<V | undefined>((subscriber) => {
      const hit = this.options.cache?.get(key);
      if (hit !== undefined) {
        subscriber.next(hit.value);
        subscriber.complete();
        return undefined;
      }
      let waiters = this.pending.get(key);
      if (waiters === undefined) {
        waiters = [];
        this.pending.set(key, waiters);
      }
      waiters.push(subscriber);
      const batch = this.pending;
      if (this.pending.size >= this.options.maxBatch) this.flush();
      else
        this.timer ??= this.options.scheduler.schedule(
          () => this.flush(),
          this.options.maxWaitMs,
        );
      return () => {
        // A get that leaves before its batch goes out takes its key with it.
        if (batch !== this.pending) return;
        const list = this.pending.get(key);
        if (list === undefined) return;
        const i = list.indexOf(subscriber);
        if (i >= 0) list.splice(i, 1);
        if (list.length === 0) this.pending.delete(key);
        if (this.pending.size === 0) this.cancelTimer();
      };
    });
  }

  /** Cancels the timer and the lookups in flight. */
  close(): void {
    this.cancelTimer();
    this.running.unsubscribe();
    this.pending = new Map();
  }

  private cancelTimer(): void {
    this.timer?.unsubscribe();
    this.timer = undefined;
  }

  private flush(): void {
    this.cancelTimer();
    const batch = this.pending;
    this.pending = new Map();
    if (batch.size === 0) return;
    const { cache, negativeTtlMs } = this.options;
    let answered = false;
    const sub = new Subscription();
    this.running.add(sub);
    sub.add(
      this.options
        .lookup([...batch.keys()])
        .pipe(take(1))
        .subscribe({
          next: (found) => {
            answered = true;
            this.running.remove(sub);
            for (const [key, waiters] of batch) {
              const value = found.get(key);
              if (cache !== undefined) {
                if (value !== undefined) cache.set(key, { value });
                else if (negativeTtlMs !== undefined)
                  cache.set(key, { value: undefined }, { ttl: negativeTtlMs });
              }
              for (const w of waiters) {
                w.next(value);
                w.complete();
              }
            }
          },
          error: (error: unknown) => {
            this.running.remove(sub);
            for (const waiters of batch.values())
              for (const w of waiters) w.error(error);
          },
          complete: () => {
            if (answered) return;
            this.running.remove(sub);
            for (const waiters of batch.values())
              for (const w of waiters)
                w.error(new Error("lookup completed without an answer"));
          },
        }),
    );
  }
}
