import { DateTime } from "luxon";
import { lastValueFrom, type SchedulerLike } from "rxjs";
import { ackAfter } from "../../operators/ack-after.js";
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

/** What {@link runOnceFiring} did. */
export interface RunOnceResult<R> {
  /** The firing that ran; undefined: a duplicate or no firing within the tolerance. */
  readonly firing: Firing | undefined;
  /** What `run` resolved with, when a firing ran. */
  readonly result: R | undefined;
  readonly stats: ScheduleStats;
}

/**
 * Starts the promo's schedule source in run-once mode (as the K3s CronJob does) on a clock
 * reading `nowMs`, runs `run` for the firing it emits and resolves, once the source has
 * recorded the firing's end and completed, with what `run` returned. The firing is recorded
 * done when `run` resolves and failed (it runs again on the next start) when it rejects;
 * the rejection is passed on.
 *
 * @example
 * ```ts
 * const { result } = await runOnceFiring(
 *   { job: "birthday-promo", store, nowMs: Date.now(), scheduler: asyncScheduler },
 *   (firing) => runBirthdayPromo(firing, deps),
 * );
 * ```
 */
export async function runOnceFiring<R>(
  options: {
    readonly job: string;
    readonly store: FiringStore;
    readonly nowMs: number;
    readonly scheduler: SchedulerLike;
    readonly cron?: string;
    readonly timeZone?: string;
    readonly toleranceMs?: number;
  },
  run: (firing: Firing) => Promise<R>,
): Promise<RunOnceResult<R>> {
  const source = scheduleSource({
    job: options.job,
    cron: options.cron ?? PROMO_SCHEDULE.cron,
    timeZone: options.timeZone ?? PROMO_SCHEDULE.timeZone,
    store: options.store,
    mode: "run-once",
    toleranceMs: options.toleranceMs ?? 15 * 60_000,
    scheduler: shiftedClock(options.nowMs, options.scheduler),
  });
  let ran: { firing: Firing; result: R } | undefined;
  // Completes after the firing is settled and recorded.
  await lastValueFrom(
    source.records().pipe(
      ackAfter((r) =>
        run(r.value).then((result) => {
          ran = { firing: r.value, result };
        }),
      ),
    ),
    { defaultValue: undefined },
  );
  return { firing: ran?.firing, result: ran?.result, stats: source.stats };
}
