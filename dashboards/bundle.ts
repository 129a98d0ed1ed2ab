import { readdir, readFile } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { parse, stringify } from "yaml";
import { zip } from "./zip.js";

/** Values put into the asset YAML at bundle time (`${analytics_schema}` etc.). */
export interface BundleOptions {
  /** Schema of the reviews analytics tables (the recommendation job's `analyticsSchema`). Default `analytics`. */
  readonly analyticsSchema?: string;
  /** Schema of the runtime's `job_stats` tables (the jobs' `postgres.schema`). Default `sluice`. */
  readonly statsSchema?: string;
  /** `postgres://user:password@host:port/db`; the password is masked in the bundle. */
  readonly databaseUrl: string;
  /** Folder of the assets. Default `dashboards/assets/` beside this module. */
  readonly assetsDir?: string;
}

/** The import ZIP, and what the import call needs beside it. */
export interface Bundle {
  readonly zip: Buffer;
  /** Paths inside the bundle (without its top folder), for tests and `--dry-run`. */
  readonly files: ReadonlyMap<string, string>;
  /** `{ "databases/sluice.yaml": password }`: the import call's `passwords` field. */
  readonly passwords: Readonly<Record<string, string>>;
}

/** Superset shows a masked password as this; the real one comes in `passwords`. */
export const MASKED_PASSWORD = "XXXXXXXXXX";
const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;
const TOP = "sluice_assets";

function assetsFolder(): string {
  const here = fileURLToPath(new URL(".", import.meta.url));
  // Runs from dashboards/*.ts (vitest) or dist/dashboards/*.js (built): the YAML stays in the repo.
  return here.includes(`${sep}dist${sep}`)
    ? join(here, "..", "..", "dashboards", "assets")
    : join(here, "assets");
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p)));
    else if (e.name.endsWith(".yaml")) out.push(p);
  }
  return out.sort();
}

/** `postgresql+psycopg2://user:XXXXXXXXXX@host:port/db` and the password. */
export function sqlalchemyUri(databaseUrl: string): {
  readonly uri: string;
  readonly password: string;
} {
  let u: URL;
  try {
    u = new URL(databaseUrl);
  } catch {
    throw new Error(
      `databaseUrl must be a postgres:// URL, got "${databaseUrl.replace(/:[^:@/]*@/, ":***@")}"`,
    );
  }
  if (u.protocol !== "postgres:" && u.protocol !== "postgresql:")
    throw new Error(
      `databaseUrl must be a postgres:// URL, got protocol ${u.protocol}`,
    );
  const password = decodeURIComponent(u.password);
  const user = u.username;
  const auth =
    user === ""
      ? ""
      : `${user}${password === "" ? "" : `:${MASKED_PASSWORD}`}@`;
  return {
    uri: `postgresql+psycopg2://${auth}${u.host}${u.pathname}${u.search}`,
    password,
  };
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const asStrings = (v: unknown): string[] =>
  Array.isArray(v)
    ? v.filter((x): x is string => typeof x === "string")
    : typeof v === "string"
      ? [v]
      : [];

/**
 * The query context stored with a chart. Superset lets a guest (the embedded dashboard) run
 * only queries whose columns, metrics and orderings are among the saved chart's
 * (`query_context_modified`), and the frontend adds the x-axis column and orderings the
 * params do not list, so this lists every column, metric and ordering the chart's own
 * frontend query may hold.
 */
export function queryContextFor(params: {
  readonly [k: string]: unknown;
}): string {
  const metrics = [
    ...new Set([
      ...asStrings(params["metrics"]),
      ...asStrings(params["metric"]),
      ...asStrings(params["series_limit_metric"]),
      ...asStrings(params["timeseries_limit_metric"]),
    ]),
  ];
  const groupby = asStrings(params["groupby"]);
  const columns: Json[] = [...groupby];
  const xAxis = params["x_axis"];
  if (typeof xAxis === "string") {
    const base = {
      columnType: "BASE_AXIS",
      expressionType: "SQL",
      label: xAxis,
      sqlExpression: xAxis,
    };
    columns.push(xAxis, base);
    const grain = params["time_grain_sqla"];
    if (typeof grain === "string") columns.push({ ...base, timeGrain: grain });
  }
  const orderable = [
    ...metrics,
    ...groupby,
    ...(typeof xAxis === "string" ? [xAxis] : []),
  ];
  const orderby: Json[] = orderable.flatMap((m) => [
    [m, true],
    [m, false],
  ]);
  return JSON.stringify({
    form_data: params as Json,
    queries: [{ columns, metrics, orderby }],
    result_format: "json",
    result_type: "full",
  });
}

/**
 * Renders `dashboards/assets/` (Superset's v1 import format: metadata, database, datasets,
 * charts, dashboards as YAML) with the schema names and the masked database URI, fills each
 * chart's `query_context`, and zips it under one top folder as the importer expects.
 *
 * @example
 * ```ts
 * const b = await bundleAssets({ databaseUrl: "postgres://sluice:sluice@127.0.0.1:5432/sluice" });
 * // POST b.zip to /api/v1/assets/import/ with passwords = JSON.stringify(b.passwords)
 * ```
 */
export async function bundleAssets(options: BundleOptions): Promise<Bundle> {
  const analyticsSchema = options.analyticsSchema ?? "analytics";
  const statsSchema = options.statsSchema ?? "sluice";
  for (const [name, v] of [
    ["analyticsSchema", analyticsSchema],
    ["statsSchema", statsSchema],
  ] as const)
    if (!IDENTIFIER.test(v))
      throw new Error(`${name} must match [a-z_][a-z0-9_]*, got "${v}"`);
  const { uri, password } = sqlalchemyUri(options.databaseUrl);
  const dir = options.assetsDir ?? assetsFolder();
  const files = new Map<string, string>();
  for (const path of await walk(dir)) {
    const rel = relative(dir, path).split(sep).join("/");
    let text = (await readFile(path, "utf8"))
      .replaceAll("${analytics_schema}", analyticsSchema)
      .replaceAll("${stats_schema}", statsSchema)
      .replaceAll("${sqlalchemy_uri}", JSON.stringify(uri));
    if (rel.startsWith("charts/")) {
      const doc = parse(text) as { params: { [k: string]: unknown } };
      text = stringify({ ...doc, query_context: queryContextFor(doc.params) });
    }
    const left = /\$\{[a-z_]+\}/.exec(text);
    if (left !== null)
      throw new Error(`${rel}: unknown placeholder ${left[0]}`);
    files.set(rel, text);
  }
  if (!files.has("metadata.yaml"))
    throw new Error(`${dir} has no metadata.yaml: not a Superset asset folder`);
  const databases = [...files.keys()].filter((p) => p.startsWith("databases/"));
  return {
    zip: zip(
      [...files].map(([path, text]) => ({
        path: `${TOP}/${path}`,
        data: Buffer.from(text, "utf8"),
      })),
    ),
    files,
    passwords: Object.fromEntries(databases.map((p) => [p, password])),
  };
}
