import { fileURLToPath } from "node:url";
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
 * `IF NOT EXISTS`, and postgrator records applied versions, so a second run does nothing
 * and two runners racing converge: the loser's version insert hits the primary key
 * (23505) and it re-reads the version.
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
  try {
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
    const run = async (): Promise<MigrationResult> => {
      const applied = await postgrator.migrate();
      return {
        applied: applied.map((m) => m.version),
        version: await postgrator.getDatabaseVersion(),
      };
    };
    try {
      return await run();
    } catch (error) {
      const code = (error as { readonly code?: unknown }).code;
      if (code !== "23505") throw error;
      return await run(); // another runner applied the same version first
    }
  } catch (error) {
    throw toPostgresError(error, `postgres.migrate schema ${schema}`);
  } finally {
    client.release();
  }
}
