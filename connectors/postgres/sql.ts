import { readFileSync } from "node:fs";
import { SluiceError } from "../../operators/sluice-error.js";

/**
 * Quotes an SQL identifier: wraps it in double quotes and doubles any inside, so a
 * configured name can never end the identifier and start a statement.
 *
 * @example
 * ```ts
 * quoteIdent("orders"); // "\"orders\""
 * ```
 */
export function quoteIdent(name: string): string {
  if (name === "" || name.includes("\u0000"))
    throw new SluiceError(
      "CONFIG",
      `not a valid SQL identifier: ${JSON.stringify(name)}`,
    );
  return `"${name.replaceAll('"', '""')}"`;
}

/** Placeholders a query file may use; each is replaced by a quoted identifier. */
export interface SqlNames {
  readonly schema: string;
}

/**
 * The query files of one folder (`<name>.sql`, one query each, STYLE.md habit 12): each is
 * read once, trimmed and cached, and `${schema}` is replaced with the quoted schema from
 * config. Any other `${...}` left in the text is an error naming `<label>/<name>.sql`. For a
 * pipeline's own `sql/` folder.
 *
 * @example
 * ```ts
 * const sql = sqlDirectory(new URL("./sql/", import.meta.url), "pipelines/eshop/sql");
 * const text = sql("select-order", { schema: "eshop" });
 * ```
 */
export function sqlDirectory(
  directory: URL,
  label: string,
): (name: string, names: SqlNames) => string {
  const cache = new Map<string, string>();
  return (name, names) => {
    let raw = cache.get(name);
    if (raw === undefined) {
      raw = readFileSync(new URL(`${name}.sql`, directory), "utf8").trim();
      cache.set(name, raw);
    }
    return substitute(raw, names, `${label}/${name}.sql`);
  };
}

/**
 * Reads `sql/<name>.sql` of this connector and replaces `${schema}` with the quoted schema
 * from config. Any other `${...}` left in the text is an error.
 *
 * @example
 * ```ts
 * const text = sqlFile("upsert-checkpoint", { schema: "sluice" });
 * ```
 */
export const sqlFile = sqlDirectory(new URL("./sql/", import.meta.url), "sql");

/**
 * Replaces `${schema}` in a query or migration text with the quoted schema name.
 *
 * @example
 * ```ts
 * substitute("SELECT 1 FROM ${schema}.t", { schema: "s" }, "inline"); // SELECT 1 FROM "s".t
 * ```
 */
export function substitute(
  text: string,
  names: SqlNames,
  where: string,
): string {
  const out = text.replaceAll("${schema}", quoteIdent(names.schema));
  const left = /\$\{[^}]*\}/.exec(out);
  if (left !== null)
    throw new SluiceError("CONFIG", `${where}: unknown placeholder ${left[0]}`);
  return out;
}

/** The parts of a multi-row upsert that do not depend on the row count. */
export interface UpsertShape {
  readonly schema: string;
  readonly table: string;
  readonly columns: readonly string[];
  readonly keyColumns: readonly string[];
  readonly updateColumns: readonly string[];
  readonly versionColumn: string | undefined;
}

/**
 * Builds `INSERT … VALUES (…), (…) ON CONFLICT (keys) DO UPDATE SET c = EXCLUDED.c`, for
 * `rows` rows. It is generated rather than a file because its columns come from config;
 * every name is quoted and every value is a parameter. Valid in PostgreSQL and CockroachDB.
 *
 * @example
 * ```ts
 * upsertStatement({ schema: "s", table: "t", columns: ["id", "v"], keyColumns: ["id"], updateColumns: ["v"], versionColumn: undefined }, 2);
 * ```
 */
export function upsertStatement(shape: UpsertShape, rows: number): string {
  const table = `${quoteIdent(shape.schema)}.${quoteIdent(shape.table)}`;
  const cols = shape.columns.map(quoteIdent);
  const width = cols.length;
  const values: string[] = [];
  for (let r = 0; r < rows; r++) {
    const ps: string[] = [];
    for (let c = 0; c < width; c++) ps.push(`$${r * width + c + 1}`);
    values.push(`(${ps.join(", ")})`);
  }
  const target = shape.keyColumns.map(quoteIdent).join(", ");
  const head = `INSERT INTO ${table} AS t (${cols.join(", ")}) VALUES ${values.join(", ")} ON CONFLICT (${target})`;
  if (shape.updateColumns.length === 0) return `${head} DO NOTHING`;
  const set = shape.updateColumns
    .map((col) => `${quoteIdent(col)} = EXCLUDED.${quoteIdent(col)}`)
    .join(", ");
  const guard =
    shape.versionColumn === undefined
      ? ""
      : ` WHERE t.${quoteIdent(shape.versionColumn)} <= EXCLUDED.${quoteIdent(shape.versionColumn)}`;
  return `${head} DO UPDATE SET ${set}${guard}`;
}
