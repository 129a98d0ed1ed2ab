import { DateTime } from "luxon";
import type { SchedulerLike } from "rxjs";
import type { Record } from "../../operators/record.js";
import { CronCalendar } from "../../connectors/schedule/calendar.js";
import {
  scheduleSource,
  type Firing,
  type ScheduleStats,
} from "../../connectors/schedule/source.js";
import type { FiringStore } from "../../connectors/schedule/store.js";

/** The promo's schedule: 00:01 every day in Asia/Jakarta (WIB, UTC+7, no daylight saving). */
export const PROMO_SCHEDULE = {
  cron: "1 0 * * *",
  timeZone: "Asia/Jakarta",
} as const;

/**
 * The first scheduled instant of a local day (00:01 in the zone for the promo), epoch ms.
 *
 * @example
 * ```ts
 * promoInstant("2026-11-22"); // Date.parse("2026-11-21T17:01:00Z")
 * ```
 */
export function promoInstant(
  day: string,
  cron: string = PROMO_SCHEDULE.cron,
  timeZone: string = PROMO_SCHEDULE.timeZone,
): number {
  const midnight = DateTime.fromISO(day, { zone: timeZone })
    .startOf("day")
    .toMillis();
  const next = new CronCalendar({ cron, timeZone }).next(midnight - 1);
  if (next === undefined)
    throw new Error(`${cron} never fires after ${day} in ${timeZone}`);
  return next.at;
}

/** A clock that reads `startMs` now and then moves with `base`; timers are `base`'s. */
export function shiftedClock(
  startMs: number,
  base: SchedulerLike,
): SchedulerLike {
  const t0 = base.now();
  return {
    now: () => startMs + (base.now() - t0),
    schedule: base.schedule.bind(base),
  };
}

/** What {@link runOnceFiring} found. */
export interface RunOnceStart {
  /** The firing to run (ack it when done, nack on failure); undefined: a duplicate or no firing within the tolerance. */
  readonly firing: Record<Firing> | undefined;
  readonly stats: ScheduleStats;
  /** Resolves when the source has recorded the firing's end and completed. */
  readonly done: Promise<void>;
}

/**
 * Starts the promo's schedule source in run-once mode (as the K3s CronJob does) on a clock
 * reading `nowMs`, and resolves with the firing it emits.
 *
 * @example
 * ```ts
 * const { firing, done } = await runOnceFiring({ job: "birthday-promo", store, nowMs: Date.now(), scheduler: asyncScheduler });
 * if (firing) { await runBirthdayPromo(firing.value, deps); firing.ack.ack(); }
 * await done;
 * ```
 */
export function runOnceFiring(options: {
  readonly job: string;
  readonly store: FiringStore;
  readonly nowMs: number;
  readonly scheduler: SchedulerLike;
  readonly cron?: string;
  readonly timeZone?: string;
  readonly toleranceMs?: number;
}): Promise<RunOnceStart> {
  const source = scheduleSource({
    job: options.job,
    cron: options.cron ?? PROMO_SCHEDULE.cron,
    timeZone: options.timeZone ?? PROMO_SCHEDULE.timeZone,
    store: options.store,
    mode: "run-once",
    toleranceMs: options.toleranceMs ?? 15 * 60_000,
    scheduler: shiftedClock(options.nowMs, options.scheduler),
  });
  return new Promise<RunOnceStart>((resolve, reject) => {
    let finish: () => void = () => undefined;
    let fail: (e: unknown) => void = () => undefined;
    const done = new Promise<void>((res, rej) => {
      finish = res;
      fail = rej;
    });
    done.catch(() => undefined);
    let started = false;
    // Lives until the source completes (after the firing is settled and recorded).
    const subscription = source.records().subscribe({
      next: (firing) => {
        started = true;
        resolve({ firing, stats: source.stats, done });
      },
      error: (e: unknown) => {
        fail(e);
        if (!started) reject(e instanceof Error ? e : new Error(String(e)));
      },
      complete: () => {
        finish();
        if (!started) resolve({ firing: undefined, stats: source.stats, done });
      },
    });
    void done.finally(() => subscription.unsubscribe());
  });
}
