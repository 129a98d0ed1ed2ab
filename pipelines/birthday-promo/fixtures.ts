import type { UserRow } from "./birthday.js";
import { seededRandom } from "../../operators/internal/random.js";

const NAMES = [
  "Ayu",
  "Budi",
  "Citra",
  "Dewi",
  "Eko",
  "Fitri",
  "Gilang",
  "Hana",
  "Indra",
  "Joko",
  "Kartika",
  "Lestari",
];

/** Options of {@link generateUsers}. */
export interface UserFixtureOptions {
  readonly count: number;
  readonly seed: number;
  /** Local day (`YYYY-MM-DD`) on which a share of the users has a birthday. */
  readonly day: string;
  /** Share of users born on `day`'s month-day. Default 0.1. */
  readonly birthdayShare?: number;
  /** Bad rows (missing email, invalid birth date, bad phone) among the birthday users. Default 3 of each. */
  readonly badRowsEach?: number;
  /** Users born on 29 February (birthday on 28 Feb in non-leap years). Default 2. */
  readonly leapDayUsers?: number;
}

/**
 * Seeded users for the demo and tests: `birthdayShare` of them born on `day` (most
 * verified, some not), some born on 29 February, and a few bad rows of each kind among the
 * birthday users: a missing email, an invalid birth date, a phone that is not E.164.
 *
 * @example
 * ```ts
 * const users = generateUsers({ count: 1_000, seed: 7, day: "2026-11-22" });
 * ```
 */
export function generateUsers(options: UserFixtureOptions): UserRow[] {
  const random = seededRandom(options.seed);
  const md = options.day.slice(5);
  const share = options.birthdayShare ?? 0.1;
  const bad = options.badRowsEach ?? 3;
  const leap = options.leapDayUsers ?? 2;
  const rows: UserRow[] = [];
  const year = (): number => 1960 + Math.floor(random() * 45);
  const pad = (n: number): string => String(n).padStart(2, "0");
  for (let i = 0; i < options.count; i++) {
    const id = `u${String(i).padStart(6, "0")}`;
    const name = `${NAMES[i % NAMES.length]!} ${i}`;
    const birthday = random() < share;
    let birthDate: string;
    if (birthday) birthDate = `${year()}-${md}`;
    else {
      // any other day of a 28-day month table keeps the date valid and rarely today
      let m = 1 + Math.floor(random() * 12);
      const d = 1 + Math.floor(random() * 28);
      if (`${pad(m)}-${pad(d)}` === md) m = m === 12 ? 1 : m + 1;
      birthDate = `${year()}-${pad(m)}-${pad(d)}`;
    }
    rows.push({
      id,
      name,
      email: `user${i}@example.com`,
      phone:
        random() < 0.8
          ? `+6281${String(10_000_000 + i).padStart(8, "0")}`
          : null,
      birthDate,
      verified: random() < 0.9,
    });
  }
  const birthdayRows = rows.filter(
    (r) => r.verified && r.birthDate?.slice(5) === md,
  );
  let k = 0;
  const take = (): UserRow | undefined => birthdayRows[k++];
  const replace = (
    row: UserRow | undefined,
    change: Partial<UserRow>,
  ): void => {
    if (row === undefined) return;
    rows[rows.indexOf(row)] = { ...row, ...change };
  };
  for (let i = 0; i < bad; i++) replace(take(), { email: null });
  for (let i = 0; i < bad; i++)
    replace(take(), { birthDate: ["1990-13-40", "22/11/1990", ""][i % 3]! });
  for (let i = 0; i < bad; i++) replace(take(), { phone: "0812-CALL-ME" });
  for (let i = 0; i < leap; i++)
    rows.push({
      id: `leap${i}`,
      name: `Leap ${i}`,
      email: `leap${i}@example.com`,
      phone: `+62819${String(1_000_000 + i).padStart(7, "0")}`,
      birthDate: `${[1992, 1996, 2000, 2004][i % 4]!}-02-29`,
      verified: true,
    });
  return rows;
}
