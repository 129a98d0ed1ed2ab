import { fileQuerier } from "../postgres/file-querier.js";
import { migratePostgres, type MigrationResult } from "../postgres/migrate.js";
import type { PostgresPool } from "../postgres/pool.js";
import { sqlDirectory } from "../postgres/sql.js";
import type { FiringEntry, FiringStatus, FiringStore } from "./store.js";

/** Options of {@link postgresFiringStore}. */
export interface PostgresFiringStoreOptions {
  /** Schema holding `schedule_firings`. Default: the pool's schema. */
  readonly schema?: string;
}

const sql = sqlDirectory(
  new URL("./sql/", import.meta.url),
  "connectors/schedule/sql",
);

interface FiringRow {
  job: string;
  id: string;
  scheduled_at: string;
  status: FiringStatus;
  attempts: number;
  updated_at: string;
  reason: string | null;
}

function entry(r: FiringRow): FiringEntry {
  return {
    job: r.job,
    id: r.id,
    scheduledAt: Number(r.scheduled_at),
    status: r.status,
    attempts: r.attempts,
    updatedAt: Number(r.updated_at),
    reason: r.reason ?? undefined,
  };
}

/**
 * Creates `schedule_firings` in the schema (postgrator, version table
 * `sluice_schedule_migrations`); idempotent.
 *
 * @example
 * ```ts
 * await migrateScheduleTables(db, { schema: "sluice" });
 * ```
 */
export function migrateScheduleTables(
  db: PostgresPool,
  options: PostgresFiringStoreOptions = {},
): Promise<MigrationResult> {
  return migratePostgres(db, {
    schema: options.schema ?? db.options.schema,
    versionTable: "sluice_schedule_migrations",
    directory: new URL("./migrations/", import.meta.url),
  });
}

/**
 * A {@link FiringStore} on PostgreSQL (one row per firing; `begin` is one atomic statement,
 * so two instances starting the same firing see one `new` and one `started`). Run
 * {@link migrateScheduleTables} first. The pool stays the caller's.
 *
 * @example
 * ```ts
 * await migrateScheduleTables(db);
 * const store = postgresFiringStore(db);
 * ```
 */
export function postgresFiringStore(
  db: PostgresPool,
  options: PostgresFiringStoreOptions = {},
): FiringStore {
  const schema = options.schema ?? db.options.schema;
  const name = `postgres-firing-store:${schema}`;
  let closed = false;
  const query = fileQuerier(db, {
    sql,
    schema,
    name,
    isClosed: () => closed,
  });
  return {
    name,
    async last(job) {
      const [r] = await query<FiringRow>("select-last-firing", [job]);
      return r === undefined ? undefined : entry(r);
    },
    async get(job, at) {
      const [r] = await query<FiringRow>("select-firing", [job, at]);
      return r === undefined ? undefined : entry(r);
    },
    async begin(f, atMs) {
      const [r] = await query<{
        previous: FiringStatus | null;
        attempts: number;
        run: boolean;
      }>("begin-firing", [f.job, f.scheduledAt, f.id, atMs]);
      return {
        previous: r?.previous ?? undefined,
        run: r?.run ?? false,
        attempts: r?.attempts ?? 0,
      };
    },
    async finish(f, status, atMs, reason) {
      await query("finish-firing", [
        f.job,
        f.scheduledAt,
        f.id,
        status,
        atMs,
        reason ?? null,
      ]);
    },
    async list(job) {
      return (await query<FiringRow>("select-firings", [job])).map(entry);
    },
    close() {
      closed = true;
      return Promise.resolve();
    },
  };
}
