// The PostgreSQL setup every meeting-brief integration test shares: a pool on the stack's
// database for the file, schemas named per run, all dropped at the end.
import { afterAll, beforeAll } from "vitest";
import {
  createPostgresPool,
  type PostgresPool,
} from "../../../connectors/postgres/index.js";
import { requireServices } from "../../../stack/index.js";

/** What {@link postgresFixture} gives a test file (use inside tests, after `beforeAll`). */
export interface PostgresFixture {
  readonly db: PostgresPool;
  readonly databaseUrl: string;
  /** A new schema name `<prefix>_<run>_<n>`, dropped in `afterAll`. */
  freshSchema(): string;
}

/**
 * Registers `beforeAll` (requires PostgreSQL, opens a pool) and `afterAll` (drops every
 * schema handed out, closes the pool) in the calling test file.
 *
 * @example
 * ```ts
 * const pg = postgresFixture("mb_it");
 * it("…", async () => { const stores = await postgresStores(pg.db, pg.freshSchema(), "q"); });
 * ```
 */
export function postgresFixture(prefix: string): PostgresFixture {
  const run = `${prefix}_${Date.now().toString(36)}_${process.pid}`;
  const schemas: string[] = [];
  let db: PostgresPool | undefined;
  let databaseUrl: string | undefined;
  beforeAll(async () => {
    databaseUrl = (await requireServices(["postgres"])).databaseUrl;
    db = createPostgresPool({ connectionString: databaseUrl });
  });
  afterAll(async () => {
    if (db === undefined) return;
    try {
      for (const s of schemas)
        await db.pool.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
    } finally {
      await db.end();
    }
  });
  const ready = <T>(v: T | undefined): T => {
    if (v === undefined)
      throw new Error("postgresFixture: used before beforeAll");
    return v;
  };
  return {
    get db() {
      return ready(db);
    },
    get databaseUrl() {
      return ready(databaseUrl);
    },
    freshSchema() {
      const s = `${run}_${schemas.length + 1}`;
      schemas.push(s);
      return s;
    },
  };
}
