import { Cron } from "croner";
import { SluiceError } from "../../operators/sluice-error.js";

/**
 * What happens to a firing whose local wall time is skipped or repeated by a daylight-saving
 * change. Both policies apply to fixed-time patterns (second, minute and hour each a single
 * value, e.g. `30 2 * * *`); patterns with a wildcard, list or step in those fields are
 * interval patterns: their firings in a skipped hour do not exist and their firings in a
 * repeated hour happen on both passes (two instants, two firing ids).
 *
 * - `shift` (default, Vixie cron's rule, croner's): a time in the spring-forward gap fires
 *   once at the first instant after the gap; a time repeated at fall back fires once, at its
 *   first occurrence. In Europe/Berlin `30 2 * * *` fires on 2026-03-29 at 03:00 CEST
 *   (01:00Z) and on 2026-10-25 at 02:30 CEST (00:30Z, not again at 02:30 CET).
 * - `skip-gap`: a time in the spring-forward gap does not fire that day (the firing is
 *   recorded as skipped with reason `dst-gap`, never silently); a repeated time fires once,
 *   at its first occurrence, as with `shift`.
 */
export type DaylightSavingPolicy = "shift" | "skip-gap";

/** A cron expression in an IANA time zone, with its daylight-saving policy. */
export interface CronSpec {
  /** 5- or 6-field cron expression (croner syntax; 6 fields start with seconds). */
  readonly cron: string;
  /** IANA time zone, e.g. `Asia/Jakarta`. */
  readonly timeZone: string;
  /** Default `shift`. */
  readonly daylightSaving?: DaylightSavingPolicy;
}

/** One scheduled instant and whether the daylight-saving policy keeps it. */
export interface ScheduledInstant {
  /** Epoch milliseconds (UTC). */
  readonly at: number;
  /** `dst-gap`: the `skip-gap` policy drops this firing. */
  readonly skip?: "dst-gap";
}

/**
 * A compiled cron expression in a time zone: enumerates scheduled instants forwards and
 * backwards. Bad expressions and unknown zones throw CONFIG naming the field.
 *
 * @example
 * ```ts
 * const cal = new CronCalendar({ cron: "1 0 * * *", timeZone: "Asia/Jakarta" });
 * cal.next(Date.parse("2026-11-22T00:00:00Z")); // { at: Date.parse("2026-11-22T17:01:00Z") }
 * ```
 */
export class CronCalendar {
  readonly spec: Required<CronSpec>;
  private readonly cron: Cron;

  constructor(spec: CronSpec, where = "schedule") {
    if (!isTimeZone(spec.timeZone))
      throw new SluiceError(
        "CONFIG",
        `${where}.timeZone must be an IANA time zone (got ${JSON.stringify(spec.timeZone)})`,
      );
    try {
      this.cron = new Cron(spec.cron, {
        timezone: spec.timeZone,
        paused: true,
      });
    } catch (error) {
      throw new SluiceError(
        "CONFIG",
        `${where}.cron is not a valid cron expression (${JSON.stringify(spec.cron)}): ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }
    this.spec = {
      cron: spec.cron,
      timeZone: spec.timeZone,
      daylightSaving: spec.daylightSaving ?? "shift",
    };
  }

  /** The first scheduled instant strictly after `afterMs`, or undefined when there is none. */
  next(afterMs: number): ScheduledInstant | undefined {
    const d = this.cron.nextRun(new Date(afterMs));
    return d === null ? undefined : this.classify(d);
  }

  /** The latest scheduled instant at or before `atMs`, or undefined. */
  latest(atMs: number): ScheduledInstant | undefined {
    const exact = this.cron.match(new Date(atMs)) ? atMs : undefined;
    if (exact !== undefined) {
      // `match` reads the wall clock; confirm it is a real run (not the second pass of a repeat).
      const n = this.next(atMs - 1);
      if (n !== undefined && n.at === atMs) return n;
    }
    const [d] = this.cron.previousRuns(1, new Date(atMs));
    return d === undefined ? undefined : this.classify(d);
  }

  /** Scheduled instants in `(fromMs, toMs]`, ascending; at most `scanLimit` (the oldest ones). */
  between(
    fromMs: number,
    toMs: number,
    scanLimit = 100_000,
  ): ScheduledInstant[] {
    const out: ScheduledInstant[] = [];
    let cursor = fromMs;
    for (let i = 0; i < scanLimit; i++) {
      const n = this.next(cursor);
      if (n === undefined || n.at > toMs) break;
      out.push(n);
      cursor = n.at;
    }
    return out;
  }

  private classify(d: Date): ScheduledInstant {
    const at = d.getTime();
    if (this.spec.daylightSaving === "skip-gap" && !this.cron.match(d))
      return { at, skip: "dst-gap" };
    return { at };
  }
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return zone.length > 0;
  } catch {
    return false;
  }
}

/**
 * The deterministic id of a firing: `${job}@${scheduled instant as ISO UTC}`.
 *
 * @example
 * ```ts
 * firingId("birthday-promo", Date.parse("2026-11-21T17:01:00Z")); // "birthday-promo@2026-11-21T17:01:00.000Z"
 * ```
 */
export function firingId(job: string, scheduledAt: number): string {
  return `${job}@${new Date(scheduledAt).toISOString()}`;
}
