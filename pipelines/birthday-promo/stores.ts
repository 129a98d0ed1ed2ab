import { createHash } from "node:crypto";
import {
  inTransaction,
  type PostgresPool,
} from "../../connectors/postgres/pool.js";
import { toPostgresError } from "../../connectors/postgres/classify.js";
import { migratePostgres } from "../../connectors/postgres/migrate.js";
import { sqlDirectory } from "../../connectors/postgres/sql.js";
import {
  IMPOSSIBLE_MONTH_DAYS,
  reportEveryDay,
  type UserRow,
} from "./birthday.js";

/** A promo as stored. */
export interface Promo {
  readonly id: string;
  readonly campaign: string;
  /** Local day (`YYYY-MM-DD`) it was created for. */
  readonly day: string;
  readonly firingId: string;
  readonly code: string;
  readonly name: string;
  readonly discountPercent: number;
  readonly validFrom: number;
  readonly validUntil: number;
}

/** What {@link PromoStore.createPromo} did. */
export interface PromoCreation {
  readonly promo: Promo;
  /** False on a rerun of the same day: the promo existed. */
  readonly created: boolean;
  /** Eligibilities inserted by this call (0 on a rerun). */
  readonly eligibilitiesCreated: number;
  /** Every user eligible for the promo after the call, sorted. */
  readonly eligible: readonly string[];
}

/** Where users are read from. */
export interface UserStore {
  /** Verified users whose birth month-day (`MM-DD`) is in `monthDays`, plus verified rows whose birth date {@link reportEveryDay} says to report. */
  birthdayCandidates(monthDays: readonly string[]): Promise<readonly UserRow[]>;
  /** Adds users (idempotent by id): fixtures, the demo. */
  insert(rows: readonly UserRow[]): Promise<void>;
}

/** Where promos and eligibilities are written, in one transaction. */
export interface PromoStore {
  /** Creates the day's promo (unless it exists) and the eligibilities of `userIds` (unless they exist), atomically. */
  createPromo(promo: Promo, userIds: readonly string[]): Promise<PromoCreation>;
}

/**
 * The promo code of a campaign day: deterministic (a rerun computes the same code), eight
 * characters from a SHA-256 of campaign and day.
 *
 * @example
 * ```ts
 * promoCode("birthday", "2026-11-22"); // "BDAY-XXXXXXXX"
 * ```
 */
export function promoCode(campaign: string, day: string): string {
  const digest = createHash("sha256").update(`${campaign}/${day}`).digest();
  const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  let code = "";
  for (let i = 0; i < 8; i++) code += alphabet[digest[i]! % alphabet.length];
  return `BDAY-${code}`;
}

/**
 * Users and promos in memory (the embedded demo and unit tests).
 *
 * @example
 * ```ts
 * const { users, promos } = memoryPromoStores();
 * ```
 */
export function memoryPromoStores(): {
  readonly users: UserStore;
  readonly promos: PromoStore & {
    readonly all: ReadonlyMap<string, Promo>;
    eligibilities(promoId: string): readonly string[];
  };
} {
  const users = new Map<string, UserRow>();
  const promos = new Map<string, Promo>();
  const byDay = new Map<string, string>();
  const eligibility = new Map<string, Set<string>>();
  return {
    users: {
      birthdayCandidates(monthDays) {
        const out = [...users.values()].filter(
          (u) =>
            u.verified &&
            (reportEveryDay(u.birthDate) ||
              monthDays.includes((u.birthDate ?? "").slice(5))),
        );
        return Promise.resolve(out.sort((a, b) => (a.id < b.id ? -1 : 1)));
      },
      insert(rows) {
        for (const r of rows) if (!users.has(r.id)) users.set(r.id, r);
        return Promise.resolve();
      },
    },
    promos: {
      all: promos,
      eligibilities: (id) => [...(eligibility.get(id) ?? [])].sort(),
      createPromo(promo, userIds) {
        const dayKey = `${promo.campaign}/${promo.day}`;
        const existing = byDay.get(dayKey);
        const created = existing === undefined;
        const p = created ? promo : promos.get(existing)!;
        if (created) {
          promos.set(p.id, p);
          byDay.set(dayKey, p.id);
        }
        const set = eligibility.get(p.id) ?? new Set<string>();
        eligibility.set(p.id, set);
        let added = 0;
        for (const u of userIds)
          if (!set.has(u)) {
            set.add(u);
            added += 1;
          }
        return Promise.resolve({
          promo: p,
          created,
          eligibilitiesCreated: added,
          eligible: [...set].sort(),
        });
      },
    },
  };
}

const queries = sqlDirectory(
  new URL("./sql/", import.meta.url),
  "pipelines/birthday-promo/sql",
);
const sql = (name: string, schema: string): string => queries(name, { schema });

/**
 * Applies the pipeline's migrations (users, promos, promo_eligibilities) to `schema` with
 * postgrator (version table `birthday_promo_migrations`).
 *
 * @example
 * ```ts
 * await migrateBirthdayPromo(db, "birthday_promo");
 * ```
 */
export async function migrateBirthdayPromo(
  db: PostgresPool,
  schema: string,
): Promise<void> {
  await migratePostgres(db, {
    schema,
    versionTable: "birthday_promo_migrations",
    directory: new URL("./migrations/", import.meta.url),
  });
}

interface PromoRow {
  id: string;
  campaign: string;
  day: string;
  firing_id: string;
  code: string;
  name: string;
  discount_percent: number;
  valid_from: string;
  valid_until: string;
}

/**
 * Users and promos on PostgreSQL: the promo and its eligibilities are written in one
 * transaction (`inTransaction`), with `ON CONFLICT DO NOTHING` on (campaign, day) and on
 * (promo, user), so a rerun of the day creates nothing twice.
 *
 * @example
 * ```ts
 * const { users, promos } = postgresPromoStores(db, "birthday_promo");
 * ```
 */
export function postgresPromoStores(
  db: PostgresPool,
  schema: string,
): { readonly users: UserStore; readonly promos: PromoStore } {
  return {
    users: {
      async birthdayCandidates(monthDays) {
        try {
          const res = await db.pool.query<{
            id: string;
            name: string;
            email: string | null;
            phone: string | null;
            birth_date: string | null;
            is_verified: boolean;
          }>(sql("select-birthday-candidates", schema), [
            [...monthDays],
            [...IMPOSSIBLE_MONTH_DAYS],
          ]);
          return res.rows.map((r) => ({
            id: r.id,
            name: r.name,
            email: r.email,
            phone: r.phone,
            birthDate: r.birth_date,
            verified: r.is_verified,
          }));
        } catch (error) {
          throw toPostgresError(error, `birthday-promo users ${schema}`);
        }
      },
      async insert(rows) {
        try {
          for (let i = 0; i < rows.length; i += 1_000) {
            const part = rows.slice(i, i + 1_000);
            await db.pool.query(sql("insert-users", schema), [
              part.map((r) => r.id),
              part.map((r) => r.name),
              part.map((r) => r.email),
              part.map((r) => r.phone),
              part.map((r) => r.birthDate),
              part.map((r) => r.verified),
            ]);
          }
        } catch (error) {
          throw toPostgresError(error, `birthday-promo insert users ${schema}`);
        }
      },
    },
    promos: {
      createPromo(promo, userIds) {
        return inTransaction(
          db.pool,
          `birthday-promo create promo ${promo.day}`,
          async (tx) => {
            const inserted = await tx.query(sql("insert-promo", schema), [
              promo.id,
              promo.campaign,
              promo.day,
              promo.firingId,
              promo.code,
              promo.name,
              promo.discountPercent,
              promo.validFrom,
              promo.validUntil,
            ]);
            const [row] = (
              await tx.query<PromoRow>(sql("select-promo", schema), [
                promo.campaign,
                promo.day,
              ])
            ).rows;
            if (row === undefined)
              throw new Error(
                `promo ${promo.campaign}/${promo.day} vanished inside its transaction`,
              );
            const stored: Promo = {
              id: row.id,
              campaign: row.campaign,
              day: row.day,
              firingId: row.firing_id,
              code: row.code,
              name: row.name,
              discountPercent: row.discount_percent,
              validFrom: Number(row.valid_from),
              validUntil: Number(row.valid_until),
            };
            const added = await tx.query(sql("insert-eligibilities", schema), [
              stored.id,
              [...userIds],
            ]);
            const all = await tx.query<{ user_id: string }>(
              sql("select-eligibilities", schema),
              [stored.id],
            );
            return {
              promo: stored,
              created: (inserted.rowCount ?? 0) > 0,
              eligibilitiesCreated: added.rowCount ?? 0,
              eligible: all.rows.map((r) => r.user_id),
            };
          },
        );
      },
    },
  };
}
