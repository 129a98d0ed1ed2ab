import { readFileSync } from "node:fs";
import { SluiceError } from "../../operators/sluice-error.js";
import { IDENTIFIER } from "./options.js";
import type { Replication } from "./options.js";

const cache = new Map<string, string>();

/**
 * Quotes a CQL identifier after checking it is a plain lower-case name, so a configured
 * keyspace or table can never end the identifier.
 *
 * @example
 * ```ts
 * quoteCqlIdent("reviews"); // "\"reviews\""
 * ```
 */
export function quoteCqlIdent(name: string): string {
  if (!IDENTIFIER.test(name))
    throw new SluiceError(
      "CONFIG",
      `not a valid CQL identifier: ${JSON.stringify(name)}`,
    );
  return `"${name}"`;
}

/**
 * The CQL map literal of a replication setting, built from validated numbers and names.
 *
 * @example
 * ```ts
 * replicationCql({ class: "SimpleStrategy", replicationFactor: 1 }); // {'class': 'SimpleStrategy', 'replication_factor': 1}
 * ```
 */
export function replicationCql(r: Replication): string {
  const int = (n: number): string => {
    if (!Number.isInteger(n) || n < 1)
      throw new SluiceError("CONFIG", `bad replication factor ${n}`);
    return String(n);
  };
  if (r.class === "SimpleStrategy")
    return `{'class': 'SimpleStrategy', 'replication_factor': ${int(r.replicationFactor)}}`;
  const dcs = Object.entries(r.datacenters).map(([dc, n]) => {
    if (!/^[A-Za-z0-9_.-]+$/.test(dc))
      throw new SluiceError(
        "CONFIG",
        `bad datacenter name ${JSON.stringify(dc)}`,
      );
    return `'${dc}': ${int(n)}`;
  });
  return `{'class': 'NetworkTopologyStrategy', ${dcs.join(", ")}}`;
}

/**
 * Reads `<name>.cql` from `dir` (one statement per file, cached) and replaces `${keyspace}`
 * with the quoted keyspace and `${replication}` with the replication map. Any other
 * placeholder is an error naming the file. Pipelines keep their own CQL folders and read
 * them with this.
 *
 * @example
 * ```ts
 * cqlFrom(new URL("./cql/", import.meta.url), "insert-review", { keyspace: "reviews" });
 * ```
 */
export function cqlFrom(
  dir: URL,
  name: string,
  names: { readonly keyspace: string; readonly replication?: Replication },
): string {
  const url = new URL(`${name}.cql`, dir);
  let raw = cache.get(url.href);
  if (raw === undefined) {
    raw = readFileSync(url, "utf8").trim();
    cache.set(url.href, raw);
  }
  let out = raw.replaceAll("${keyspace}", quoteCqlIdent(names.keyspace));
  if (names.replication !== undefined)
    out = out.replaceAll("${replication}", replicationCql(names.replication));
  const left = /\$\{[^}]*\}/.exec(out);
  if (left !== null)
    throw new SluiceError(
      "CONFIG",
      `${url.pathname}: unknown placeholder ${left[0]}`,
    );
  return out;
}

/**
 * Reads the connector's own `cql/<name>.cql` with {@link cqlFrom}.
 *
 * @example
 * ```ts
 * cqlFile("claim-dedupe", { keyspace: "sluice" });
 * ```
 */
export function cqlFile(
  name: string,
  names: { readonly keyspace: string; readonly replication?: Replication },
): string {
  return cqlFrom(new URL("./cql/", import.meta.url), name, names);
}
