import { readFileSync } from "node:fs";
import {
  quoteCqlIdent,
  replicationCql,
  type Replication,
} from "../../connectors/cassandra/index.js";
import { SluiceError } from "../../operators/sluice-error.js";

const cache = new Map<string, string>();

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
  let raw = cache.get(name);
  if (raw === undefined) {
    raw = readFileSync(
      new URL(`./cql/${name}.cql`, import.meta.url),
      "utf8",
    ).trim();
    cache.set(name, raw);
  }
  let out = raw.replaceAll("${keyspace}", quoteCqlIdent(names.keyspace));
  if (names.replication !== undefined)
    out = out.replaceAll("${replication}", replicationCql(names.replication));
  const left = /\$\{[^}]*\}/.exec(out);
  if (left !== null)
    throw new SluiceError(
      "CONFIG",
      `pipelines/reviews/cql/${name}.cql: unknown placeholder ${left[0]}`,
    );
  return out;
}
