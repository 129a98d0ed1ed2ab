import { toPostgresError } from "./classify.js";
import type { PostgresPool } from "./pool.js";
import type { SqlNames } from "./sql.js";
import { closedError } from "../internal/errors.js";

/** Options of {@link fileQuerier}. */
export interface FileQuerierOptions {
  /** Reads a query by file name with `${schema}` replaced (see `sqlDirectory`). */
  readonly sql: (file: string, names: SqlNames) => string;
  readonly schema: string;
  /** Names the store in errors: `<name> <file>: …`. */
  readonly name: string;
  /** When it returns true, queries fail with a closed error instead of reaching the pool. */
  readonly isClosed?: () => boolean;
}

/**
 * One function that runs a store's named SQL files on the pool: the text from `sql`, the rows
 * back, PostgreSQL errors classified with the store and file named.
 *
 * @example
 * ```ts
 * const sql = sqlDirectory(new URL("./sql/", import.meta.url), "connectors/schedule/sql");
 * const query = fileQuerier(db, { sql, schema: "sluice", name: "postgres-firing-store" });
 * const [row] = await query<{ id: string }>("select-firing", [job, at]);
 * ```
 */
export function fileQuerier(
  db: PostgresPool,
  options: FileQuerierOptions,
): <R extends object = Record<string, unknown>>(
  file: string,
  params: readonly unknown[],
) => Promise<R[]> {
  const { sql, schema, name, isClosed } = options;
  return async <R extends object = Record<string, unknown>>(
    file: string,
    params: readonly unknown[],
  ): Promise<R[]> => {
    if (isClosed?.() === true) throw closedError(name);
    try {
      return (await db.pool.query(sql(file, { schema }), [...params]))
        .rows as R[];
    } catch (error) {
      throw toPostgresError(error, `${name} ${file}`);
    }
  };
}
