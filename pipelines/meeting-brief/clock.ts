import { asyncScheduler, type SchedulerLike, type Subscription } from "rxjs";

/**
 * A scheduler whose clock starts at `startMs` and runs `speed` times faster than the wall
 * clock; its timers wait `delay / speed` real milliseconds. The demo and the tests run a
 * whole morning (05:00 run, 07:50 sends, retries, leases) in seconds with it.
 *
 * @example
 * ```ts
 * const scheduler = acceleratedScheduler(Date.parse("2026-11-23T12:49:00Z"), 600); // 10 virtual minutes per real second
 * ```
 */
export function acceleratedScheduler(
  startMs: number,
  speed: number,
): SchedulerLike {
  if (!(speed > 0))
    throw new TypeError(
      `acceleratedScheduler: speed must be > 0 (got ${speed})`,
    );
  const t0 = performance.now();
  const now = (): number =>
    startMs + Math.floor((performance.now() - t0) * speed);
  return {
    now,
    schedule(work: never, delay?: number, state?: unknown): Subscription {
      return asyncScheduler.schedule(
        work,
        (delay ?? 0) / speed,
        state as never,
      );
    },
  };
}
