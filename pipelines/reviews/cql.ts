import { cqlFrom, type Replication } from "../../connectors/cassandra/index.js";

/**
 * Reads `pipelines/reviews/cql/<name>.cql` (one statement per file) with `${keyspace}` and
 * `${replication}` filled in from config; any other placeholder is an error.
 *
 * @example
 * ```ts
 * reviewsCql("insert-review", { keyspace: "reviews" });
 * ```
 */
export function reviewsCql(
  name: string,
  names: { readonly keyspace: string; readonly replication?: Replication },
): string {
  return cqlFrom(new URL("./cql/", import.meta.url), name, names);
}
