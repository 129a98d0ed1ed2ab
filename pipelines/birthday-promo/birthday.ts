import { DateTime } from "luxon";
import { z } from "zod";

/**
 * The 29 February rule: a user born on 29 February is celebrated on 28 February in a year
 * that is not a leap year (and on 29 February in a leap year), so everyone gets exactly
 * one birthday promo a year, on a day of their birth month.
 */
export const LEAP_DAY_RULE =
  "29 February birthdays are celebrated on 28 February in non-leap years";

/** A user row as stored; `birthDate` is text (imported data), validated here. */
export interface UserRow {
  readonly id: string;
  readonly name: string;
  readonly email: string | null;
  /** E.164 phone number for WhatsApp, e.g. `+628123456789`; null when the user has none. */
  readonly phone: string | null;
  /** `YYYY-MM-DD` as stored; may be missing or invalid in bad rows. */
  readonly birthDate: string | null;
  readonly verified: boolean;
}

/** A user that passed validation. */
export interface BirthdayUser {
  readonly id: string;
  readonly name: string;
  /** Absent: no email is sent (reported as a dead letter with the reason). */
  readonly email: string | undefined;
  readonly phone: string | undefined;
  readonly birthMonth: number;
  readonly birthDay: number;
}

/** One reason a row cannot be used, or a channel of it cannot. */
export interface RowProblem {
  readonly userId: string;
  /** `user` (the whole row is unusable), `email` or `whatsapp` (that channel is). */
  readonly scope: "user" | "email" | "whatsapp";
  readonly field: string;
  readonly reason: string;
}

const email = z.email();
const phone = z
  .string()
  .regex(/^\+[1-9][0-9]{6,14}$/, "must be E.164, e.g. +628123456789");

/**
 * Parses a stored birth date: `YYYY-MM-DD`, a real calendar date, not in the future.
 * Returns the month and day, or the reason it is invalid.
 *
 * @example
 * ```ts
 * parseBirthDate("2000-02-29", "2026-11-22"); // { month: 2, day: 29 }
 * parseBirthDate("2001-02-29", "2026-11-22"); // { reason: "…not a calendar date" }
 * ```
 */
export function parseBirthDate(
  raw: string | null,
  today: string,
):
  | { readonly month: number; readonly day: number }
  | { readonly reason: string } {
  if (raw === null || raw.trim() === "")
    return { reason: "birth_date is missing" };
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(raw.trim());
  if (m === null)
    return { reason: `birth_date ${JSON.stringify(raw)} is not YYYY-MM-DD` };
  const d = DateTime.fromISO(raw.trim(), { zone: "UTC" });
  if (!d.isValid) return { reason: `birth_date ${raw} is not a calendar date` };
  if (raw.trim() > today)
    return { reason: `birth_date ${raw} is in the future` };
  return { month: d.month, day: d.day };
}

/**
 * Validates a user row for the promo on `today` (local `YYYY-MM-DD`): a row with an invalid
 * birth date is unusable; a missing or invalid email or phone only disables that channel.
 * Every problem comes back with its reason; nothing is dropped silently.
 *
 * @example
 * ```ts
 * const { user, problems } = validateUser(row, "2026-11-22");
 * ```
 */
export function validateUser(
  row: UserRow,
  today: string,
): {
  readonly user: BirthdayUser | undefined;
  readonly problems: readonly RowProblem[];
} {
  const problems: RowProblem[] = [];
  const birth = parseBirthDate(row.birthDate, today);
  if ("reason" in birth)
    return {
      user: undefined,
      problems: [
        {
          userId: row.id,
          scope: "user",
          field: "birth_date",
          reason: birth.reason,
        },
      ],
    };
  let mail: string | undefined;
  if (row.email === null || row.email.trim() === "")
    problems.push({
      userId: row.id,
      scope: "email",
      field: "email",
      reason: "email is missing",
    });
  else if (!email.safeParse(row.email.trim()).success)
    problems.push({
      userId: row.id,
      scope: "email",
      field: "email",
      reason: `email ${JSON.stringify(row.email)} is not an address`,
    });
  else mail = row.email.trim();
  let tel: string | undefined;
  if (row.phone !== null && row.phone.trim() !== "") {
    if (phone.safeParse(row.phone.trim()).success) tel = row.phone.trim();
    else
      problems.push({
        userId: row.id,
        scope: "whatsapp",
        field: "phone",
        reason: `phone ${JSON.stringify(row.phone)} must be E.164, e.g. +628123456789`,
      });
  }
  return {
    user: {
      id: row.id,
      name: row.name,
      email: mail,
      phone: tel,
      birthMonth: birth.month,
      birthDay: birth.day,
    },
    problems,
  };
}

/** True for a leap year of the Gregorian calendar. */
export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/**
 * The birth month-days (`MM-DD`) celebrated on local date `today`: the day itself, plus
 * `02-29` on 28 February of a non-leap year ({@link LEAP_DAY_RULE}).
 *
 * @example
 * ```ts
 * celebratedOn("2027-02-28"); // ["02-28", "02-29"]
 * celebratedOn("2028-02-29"); // ["02-29"]
 * ```
 */
export function celebratedOn(today: string): readonly string[] {
  const md = today.slice(5);
  const year = Number(today.slice(0, 4));
  return md === "02-28" && !isLeapYear(year) ? ["02-28", "02-29"] : [md];
}

/**
 * Whether a user born on `month`/`day` has their birthday on local date `today`.
 *
 * @example
 * ```ts
 * isBirthdayOn(2, 29, "2027-02-28"); // true
 * ```
 */
export function isBirthdayOn(
  month: number,
  day: number,
  today: string,
): boolean {
  const md = `${String(month).padStart(2, "0")}-${String(day).padStart(2, "0")}`;
  return celebratedOn(today).includes(md);
}

/** Month-days that exist in no year: rows carrying them are reported on every run. */
export const IMPOSSIBLE_MONTH_DAYS = [
  "02-30",
  "02-31",
  "04-31",
  "06-31",
  "09-31",
  "11-31",
] as const;

const SHAPE = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;

/**
 * Whether the users query must return a row whatever today is, so its bad birth date is
 * reported: missing, not `YYYY-MM-DD` with a month 01–12 and a day 01–31, or a month-day
 * that exists in no year. (A 29 February in a non-leap birth year is reported on the days
 * that celebrate 29 February.) The SQL query `select-birthday-candidates.sql` mirrors it.
 *
 * @example
 * ```ts
 * reportEveryDay("1990-13-40"); // true
 * ```
 */
export function reportEveryDay(raw: string | null): boolean {
  if (raw === null || !SHAPE.test(raw)) return true;
  return (IMPOSSIBLE_MONTH_DAYS as readonly string[]).includes(raw.slice(5));
}
