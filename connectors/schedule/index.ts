// Public exports of the schedule connector, listed one by one (STYLE.md habit 8).
/**
 * `connectors/schedule`: cron firings in an IANA time zone as a Sluice source.
 *
 * @example
 * ```ts
 * import { scheduleSource, memoryFiringStore } from "../connectors/schedule/index.js";
 * const source = scheduleSource({ job: "birthday-promo", cron: "1 0 * * *", timeZone: "Asia/Jakarta",
 *   store: memoryFiringStore(), mode: "run-once", toleranceMs: 15 * 60_000 });
 * source.records().subscribe((r) => { console.log(r.value.id); r.ack.ack(); });
 * ```
 */
export { CronCalendar, firingId } from "./calendar.js";
export type {
  CronSpec,
  DaylightSavingPolicy,
  ScheduledInstant,
} from "./calendar.js";
export { ScheduleSource, scheduleSource } from "./source.js";
export type {
  CatchUpOptions,
  Firing,
  OverlapPolicy,
  ScheduleSourceOptions,
  ScheduleStats,
} from "./source.js";
export { memoryFiringStore } from "./store.js";
export type {
  BeginResult,
  FiringEntry,
  FiringKey,
  FiringStatus,
  FiringStore,
} from "./store.js";
export {
  migrateScheduleTables,
  postgresFiringStore,
} from "./postgres-store.js";
export type { PostgresFiringStoreOptions } from "./postgres-store.js";
