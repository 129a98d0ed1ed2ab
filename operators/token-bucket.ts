import { asyncScheduler, Observable, type SchedulerLike } from "rxjs";
import { positiveNumber } from "./internal/options.js";
import { SluiceError } from "./sluice-error.js";

/** Options of {@link TokenBucket}. */
export interface TokenBucketOptions {
  /** Tokens added per second. */
  readonly ratePerSec: number;
  /** Most tokens held at once: the largest burst. Default `ratePerSec` (one second's worth). */
  readonly burst?: number;
  /** Clock. Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
}

/**
 * A token bucket for one named resource (an API, a database), shared by every operator that
 * uses it. Callers reserve tokens ahead of time: a reservation may drive the balance below
 * zero, and its caller waits until the balance is back at zero, so waiters are served in
 * the order they asked and the long-run rate never passes `ratePerSec`.
 *
 * @example
 * ```ts
 * const smtp = new TokenBucket({ ratePerSec: 14, burst: 14, scheduler });
 * emails$.pipe(rateLimit({ bucket: smtp }), keyOrderedMap(send, { concurrency: 4 }));
 * ```
 */
export class TokenBucket {
  readonly ratePerSec: number;
  readonly burst: number;
  readonly scheduler: SchedulerLike;
  private tokens: number;
  private stamp: number;

  constructor(options: TokenBucketOptions) {
    this.ratePerSec = positiveNumber(
      "TokenBucket",
      "ratePerSec",
      options.ratePerSec,
    );
    this.burst = positiveNumber(
      "TokenBucket",
      "burst",
      options.burst ?? options.ratePerSec,
    );
    this.scheduler = options.scheduler ?? asyncScheduler;
    this.tokens = this.burst;
    this.stamp = this.scheduler.now();
  }

  /** Tokens available now (negative while reservations are outstanding). */
  get available(): number {
    this.refill();
    return this.tokens;
  }

  /** Takes `cost` tokens if they are there now; never waits, never reserves. */
  tryTake(cost = 1): boolean {
    this.refill();
    if (this.tokens < cost) return false;
    this.tokens -= cost;
    return true;
  }

  /** Reserves `cost` tokens and returns how many milliseconds the caller must wait before using them. */
  reserve(cost = 1): number {
    if (cost > this.burst)
      throw new SluiceError(
        "CONFIG",
        `TokenBucket: a cost of ${cost} can never fit a burst of ${this.burst}`,
      );
    this.refill();
    this.tokens -= cost;
    return this.tokens >= 0 ? 0 : (-this.tokens / this.ratePerSec) * 1000;
  }

  /** Gives back a reservation that will not be used. */
  refund(cost = 1): void {
    this.refill();
    this.tokens = Math.min(this.burst, this.tokens + cost);
  }

  /**
   * Waits for `cost` tokens: emits once and completes when they are granted; unsubscribing
   * before that gives them back. Use inside a step to pace calls to the resource.
   */
  acquire(cost = 1): Observable<void> {
    return new Observable<void>((subscriber) => {
      const wait = this.reserve(cost);
      let granted = false;
      const grant = (): void => {
        granted = true;
        subscriber.next();
        subscriber.complete();
      };
      if (wait === 0) {
        grant();
        return undefined;
      }
      const action = this.scheduler.schedule(grant, wait);
      return () => {
        action.unsubscribe();
        if (!granted) this.refund(cost);
      };
    });
  }

  private refill(): void {
    const now = this.scheduler.now();
    if (now > this.stamp) {
      this.tokens = Math.min(
        this.burst,
        this.tokens + ((now - this.stamp) / 1000) * this.ratePerSec,
      );
      this.stamp = now;
    }
  }
}
