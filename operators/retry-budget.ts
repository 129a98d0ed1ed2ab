import { asyncScheduler, type SchedulerLike } from "rxjs";
import { positiveInteger, positiveNumber, ratio } from "./internal/options.js";

/** Options of {@link retryBudget}. */
export interface RetryBudgetOptions {
  /** Retries allowed per call made in the window. Default 0.1 (10 %). */
  readonly ratio?: number;
  /** Retries allowed per window whatever the traffic, so a quiet job can still retry. Default 10. */
  readonly minRetriesPerWindow?: number;
  /** Length of the sliding window. Default 10 000. */
  readonly windowMs?: number;
  /** Slots the window is counted in (its resolution). Default 10. */
  readonly slots?: number;
  /** Clock. Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
}

/**
 * A retry budget in the style of Finagle and gRPC: over a sliding window, retries may not
 * exceed `minRetriesPerWindow + ratio × calls`, so a failing dependency sees at most
 * `1 + ratio` times its normal load instead of `maxAttempts` times. Share one budget per
 * dependency across all the steps that call it. Memory is fixed: `slots` counters.
 *
 * @example
 * ```ts
 * const budget = new RetryBudget({ ratio: 0.1 });
 * budget.recordCall();
 * if (budget.tryRetry()) retryNow();
 * ```
 */
export class RetryBudget {
  private readonly ratio: number;
  private readonly minRetries: number;
  private readonly slotMs: number;
  private readonly calls: Float64Array;
  private readonly retries: Float64Array;
  private readonly scheduler: SchedulerLike;
  private epoch: number;

  constructor(options: RetryBudgetOptions = {}) {
    this.ratio = ratio("retryBudget", "ratio", options.ratio ?? 0.1);
    this.minRetries = options.minRetriesPerWindow ?? 10;
    if (!Number.isInteger(this.minRetries) || this.minRetries < 0)
      throw new RangeError(
        "retryBudget.minRetriesPerWindow must be a non-negative integer",
      );
    const slots = positiveInteger("retryBudget", "slots", options.slots ?? 10);
    this.slotMs =
      positiveNumber("retryBudget", "windowMs", options.windowMs ?? 10_000) /
      slots;
    this.calls = new Float64Array(slots);
    this.retries = new Float64Array(slots);
    this.scheduler = options.scheduler ?? asyncScheduler;
    this.epoch = Math.floor(this.scheduler.now() / this.slotMs);
  }

  /** Counts one call (a first attempt): it earns `ratio` of a retry. */
  recordCall(): void {
    this.calls[this.advance()]! += 1;
  }

  /** Takes one retry from the budget if one is left; false means do not retry. */
  tryRetry(): boolean {
    const slot = this.advance();
    if (
      this.sum(this.retries) + 1 >
      this.minRetries + this.ratio * this.sum(this.calls)
    )
      return false;
    this.retries[slot]! += 1;
    return true;
  }

  /** Retries still allowed in the current window. */
  get available(): number {
    this.advance();
    return Math.max(
      0,
      Math.floor(
        this.minRetries +
          this.ratio * this.sum(this.calls) -
          this.sum(this.retries),
      ),
    );
  }

  private sum(counts: Float64Array): number {
    let total = 0;
    for (const c of counts) total += c;
    return total;
  }

  /** Moves the window to now, clearing the slots that fell out of it; returns the current slot. */
  private advance(): number {
    const slots = this.calls.length;
    const epoch = Math.floor(this.scheduler.now() / this.slotMs);
    for (let e = Math.max(this.epoch + 1, epoch - slots + 1); e <= epoch; e++) {
      const slot = e % slots;
      this.calls[slot] = 0;
      this.retries[slot] = 0;
    }
    this.epoch = Math.max(this.epoch, epoch);
    return this.epoch % slots;
  }
}

/**
 * Creates a {@link RetryBudget}.
 *
 * @example
 * ```ts
 * const usersBudget = retryBudget({ ratio: 0.2, windowMs: 10_000, scheduler });
 * const fetchUser = retryWithBackoff(callUsers, { maxAttempts: 4, budget: usersBudget, scheduler });
 * ```
 */
export function retryBudget(options: RetryBudgetOptions = {}): RetryBudget {
  return new RetryBudget(options);
}
