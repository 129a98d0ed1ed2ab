import { inflateRawSync } from "node:zlib";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { bundleAssets, queryContextFor, sqlalchemyUri } from "./bundle.js";

const URL_ = "postgres://sluice:s3cret@127.0.0.1:5432/sluice";

/** Reads a ZIP's local entries back (stored or deflated), as the importer would. */
function unzip(zip: Buffer): Map<string, string> {
  const out = new Map<string, string>();
  let at = 0;
  while (zip.readUInt32LE(at) === 0x04034b50) {
    const method = zip.readUInt16LE(at + 8);
    const size = zip.readUInt32LE(at + 18);
    const nameLength = zip.readUInt16LE(at + 26);
    const extra = zip.readUInt16LE(at + 28);
    const name = zip.subarray(at + 30, at + 30 + nameLength).toString("utf8");
    const start = at + 30 + nameLength + extra;
    const data = zip.subarray(start, start + size);
    out.set(
      name,
      (method === 8 ? inflateRawSync(data) : data).toString("utf8"),
    );
    at = start + size;
  }
  expect(zip.readUInt32LE(zip.length - 22)).toBe(0x06054b50);
  expect(zip.readUInt16LE(zip.length - 12)).toBe(out.size);
  return out;
}

describe("bundleAssets", () => {
  it("zips every asset under one top folder with the schemas filled in", async () => {
    const b = await bundleAssets({
      databaseUrl: URL_,
      analyticsSchema: "analytics_demo",
      statsSchema: "jobs",
    });
    const files = unzip(b.zip);
    expect([...files.keys()].every((p) => p.startsWith("sluice_assets/"))).toBe(
      true,
    );
    expect(files.has("sluice_assets/metadata.yaml")).toBe(true);
    const stats = parse(
      files.get("sluice_assets/datasets/sluice/movie_rating_stats.yaml")!,
    ) as { schema: string };
    expect(stats.schema).toBe("analytics_demo");
    const hist = parse(
      files.get("sluice_assets/datasets/sluice/rating_histogram.yaml")!,
    ) as { sql: string };
    expect(hist.sql).toContain("FROM analytics_demo.movie_rating_stats");
    const jobs = parse(
      files.get("sluice_assets/datasets/sluice/job_stats_rates.yaml")!,
    ) as { schema: string };
    expect(jobs.schema).toBe("jobs");
    expect([...files.values()].join("\n")).not.toMatch(/\$\{[a-z_]+\}/);
  });

  it("never puts the database password in the bundle, only in the passwords field", async () => {
    const b = await bundleAssets({ databaseUrl: URL_ });
    const text = [...unzip(b.zip).values()].join("\n");
    expect(text).not.toContain("s3cret");
    const db = parse(b.files.get("databases/sluice.yaml")!) as {
      sqlalchemy_uri: string;
    };
    expect(db.sqlalchemy_uri).toBe(
      "postgresql+psycopg2://sluice:XXXXXXXXXX@127.0.0.1:5432/sluice",
    );
    expect(b.passwords).toEqual({ "databases/sluice.yaml": "s3cret" });
  });

  it("attaches every chart of a dashboard through its position tree, by uuid", async () => {
    const b = await bundleAssets({ databaseUrl: URL_ });
    const charts = new Map<string, string>();
    for (const [path, text] of b.files)
      if (path.startsWith("charts/")) {
        const c = parse(text) as { uuid: string; slice_name: string };
        charts.set(c.uuid, c.slice_name);
      }
    const attached = new Set<string>();
    for (const slug of ["recommendations", "pipelines"]) {
      const d = parse(b.files.get(`dashboards/${slug}.yaml`)!) as {
        slug: string;
        position: Record<string, { type?: string; meta?: { uuid?: string } }>;
      };
      expect(d.slug).toBe(slug);
      for (const node of Object.values(d.position))
        if (node.type === "CHART") {
          expect(charts.has(node.meta!.uuid!)).toBe(true);
          attached.add(node.meta!.uuid!);
        }
    }
    expect(attached.size).toBe(charts.size);
  });

  it("rejects a schema name that is not a plain identifier", async () => {
    await expect(
      bundleAssets({ databaseUrl: URL_, analyticsSchema: "x; DROP TABLE y" }),
    ).rejects.toThrow(/analyticsSchema must match/);
  });
});

describe("queryContextFor", () => {
  it("lists the x-axis column, groupby, every metric and both orderings of each", () => {
    const qc = JSON.parse(
      queryContextFor({
        x_axis: "window_start",
        time_grain_sqla: "PT1H",
        metrics: ["reviews"],
        groupby: ["title"],
        series_limit_metric: "reviews",
      }),
    ) as {
      queries: { columns: unknown[]; metrics: string[]; orderby: unknown[] }[];
    };
    const q = qc.queries[0]!;
    expect(q.metrics).toEqual(["reviews"]);
    expect(q.columns).toContainEqual({
      columnType: "BASE_AXIS",
      expressionType: "SQL",
      label: "window_start",
      sqlExpression: "window_start",
      timeGrain: "PT1H",
    });
    expect(q.columns).toContain("title");
    expect(q.orderby).toContainEqual(["reviews", false]);
    expect(q.orderby).toContainEqual(["reviews", true]);
  });
});

describe("sqlalchemyUri", () => {
  it("masks the password and keeps host, port, database and query", () => {
    expect(
      sqlalchemyUri("postgresql://u:p%40ss@db:6543/x?sslmode=require"),
    ).toEqual({
      uri: "postgresql+psycopg2://u:XXXXXXXXXX@db:6543/x?sslmode=require",
      password: "p@ss",
    });
  });

  it("names a URL that is not PostgreSQL's", () => {
    expect(() => sqlalchemyUri("mysql://u:p@h/x")).toThrow(/postgres:\/\//);
  });
});
