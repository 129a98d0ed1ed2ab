import { setTimeout as delay } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import type { PoolClient } from "pg";
import Postgrator from "postgrator";
import { toPostgresError } from "./classify.js";
import type { PostgresPool } from "./pool.js";
import { fieldError, IDENTIFIER } from "./options.js";
import { quoteIdent, substitute } from "./sql.js";

/** Options of {@link migratePostgres}. */
export interface MigrateOptions {
  /** Schema to migrate. Default: the pool's `schema`. */
  readonly schema?: string;
  /** Version table inside the schema. Default `sluice_migrations`. */
  readonly versionTable?: string;
  /**
   * Folder of numbered `NNN.do.name.sql` files (a pipeline's own migrations). Default: this
   * connector's `migrations/` (the runtime's tables).
   */
  readonly directory?: string | URL;
}

/** What a migration run did. */
export interface MigrationResult {
  /** Versions applied by this run, ascending; empty when the schema was up to date. */
  readonly applied: readonly number[];
  /** Schema version after the run. */
  readonly version: number;
}

const MIGRATIONS = fileURLToPath(new URL("./migrations/", import.meta.url));

/**
 * Applies the numbered migrations in `connectors/postgres/migrations/` to the configured
 * schema with postgrator (offline; SQL files; no advisory lock, so it runs on CockroachDB).
 * `${schema}` in a file becomes the quoted schema name. Every file is written with
 * `IF NOT EXISTS`, and postgrator records applied versions, so a second run does nothing.
 * Runners racing (every job of a pipeline migrates its schema on start) converge:
 * PostgreSQL's `IF NOT EXISTS` is not safe against a concurrent creator — the loser of
 * `CREATE SCHEMA`/`CREATE TABLE` gets a unique violation on the catalogue (23505), as does
 * the loser of postgrator's version insert — so a run that meets one of those (or another
 * "already exists": schema, table, column, object; or a table another runner has just
 * replaced with a view) starts over after a short random pause, up to {@link MIGRATE_ATTEMPTS}
 * times, and then finds the winner's work done.
 *
 * @example
 * ```ts
 * const { applied } = await migratePostgres(db); // [1, 2] the first time, [] after
 * ```
 */
export async function migratePostgres(
  db: PostgresPool,
  options: MigrateOptions = {},
): Promise<MigrationResult> {
  const schema = options.schema ?? db.options.schema;
  const versionTable = options.versionTable ?? "sluice_migrations";
  const directory =
    options.directory === undefined
      ? MIGRATIONS
      : options.directory instanceof URL
        ? fileURLToPath(options.directory)
        : options.directory;
  // postgrator quotes the version table without escaping: only plain names get through.
  if (!IDENTIFIER.test(schema))
    throw fieldError(
      "postgres.migrate",
      "schema",
      "must match [a-z_][a-z0-9_]*",
    );
  if (!IDENTIFIER.test(versionTable))
    throw fieldError(
      "postgres.migrate",
      "versionTable",
      "must match [a-z_][a-z0-9_]*",
    );
  const client = await db.pool.connect().catch((error: unknown) => {
    throw toPostgresError(error, "postgres.migrate connect");
  });
  // Checked out, the client has no pool listener: a server restart must not be uncaught.
  let broken = false;
  const onError = (): void => {
    broken = true;
  };
  client.on("error", onError);
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        return await migrateOnce(client, schema, versionTable, directory);
      } catch (error) {
        const code = (error as { readonly code?: unknown }).code;
        if (
          attempt >= MIGRATE_ATTEMPTS ||
          typeof code !== "string" ||
          !RACE_CODES.has(code)
        )
          throw error;
        // Another runner created the same object first: let it finish, then look again.
        await delay(20 + Math.random() * 80 * attempt);
      }
    }
  } catch (error) {
    throw toPostgresError(error, `postgres.migrate schema ${schema}`);
  } finally {
    client.off("error", onError);
    client.release(broken);
  }
}

/** How many times {@link migratePostgres} starts over after losing a race to another runner. */
export const MIGRATE_ATTEMPTS = 5;

/**
 * unique_violation (on the catalogue or the version table), duplicate_schema,
 * duplicate_table, duplicate_column (postgrator adds its version table's columns one by
 * one), duplicate_object, and wrong_object_type (42809): a migration that replaces a table
 * with a view (`DROP TABLE IF EXISTS t; CREATE OR REPLACE VIEW t`), run by a runner that read
 * the version before another committed it, meets the view (`"t" is not a table`). Starting
 * over, it finds that version applied.
 */
const RACE_CODES = new Set([
  "23505",
  "42P06",
  "42P07",
  "42701",
  "42710",
  "42809",
]);

async function migrateOnce(
  client: PoolClient,
  schema: string,
  versionTable: string,
  directory: string,
): Promise<MigrationResult> {
  await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
  const postgrator = new Postgrator({
    driver: "pg",
    migrationPattern: `${directory.endsWith("/") ? directory : `${directory}/`}*.sql`,
    schemaTable: `${schema}.${versionTable}`,
    validateChecksums: true,
    execQuery: (query) => client.query(query),
    execSqlScript: async (script) => {
      await client.query(substitute(script, { schema }, "migration"));
    },
  });
  const applied = await postgrator.migrate();
  return {
    applied: applied.map((m) => m.version),
    version: await postgrator.getDatabaseVersion(),
  };
}
