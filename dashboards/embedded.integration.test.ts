import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type Page } from "playwright-core";
import { Counter, Gauge, Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { METRIC_NAMES } from "../connectors/metrics.js";
import { createPostgresPool } from "../connectors/postgres/index.js";
import { defaultChainOptions } from "../pipelines/reviews/chain.js";
import {
  runReviewsChainOnStack,
  stackRunNames,
} from "../pipelines/reviews/stack-chain.js";
import { dashboardPageRoute } from "../runtime/dashboard-page.js";
import { startHttpServer, type HttpServer } from "../runtime/http.js";
import {
  LATE_RECORDS_METRIC,
  migrateJobStats,
  startJobStats,
} from "../runtime/job-stats.js";
import { requireServices, type Endpoints } from "../stack/index.js";
import { uniqueName } from "../stack/smoke/wait.js";
import { requireSuperset, SupersetClient } from "../stack/superset.js";
import { ensureEmbedded, importDashboards } from "./import.js";

// Debian's chromium (stack/setup.mjs installs it), with the flags this machine's closed
// network needs: without the background-networking ones it keeps dialling Google.
const CHROMIUM = process.env["SLUICE_CHROMIUM"] ?? "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
// Under .sluice/ (git-ignored), beside the test reports; CI keeps it as an artifact.
const SCREENSHOTS = fileURLToPath(
  new URL("../.sluice/screenshots/", import.meta.url),
);

const runId = uniqueName("dash").replace(/[^a-z0-9_]/g, "");
const names = stackRunNames(runId);
const statsSchema = `job_stats_${runId}`;
let env: Endpoints;
let api: SupersetClient;
let http: HttpServer;
let browser: Browser;

beforeAll(async () => {
  env = await requireServices(["kafka", "cassandra", "postgres", "memcached"]);
  api = new SupersetClient(await requireSuperset());
  // The reviews chain on the real stack writes the analytics tables into analytics_<runId>.
  await runReviewsChainOnStack(
    {
      ...defaultChainOptions,
      reviews: 300,
      movies: 25,
      users: 40,
      partitions: 2,
      corruptEvents: 0,
      runId,
      cleanup: false,
    },
    env,
  );
  // The runtime's job stats for two jobs, a few snapshots apart.
  const db = createPostgresPool({
    connectionString: env.databaseUrl,
    schema: statsSchema,
  });
  try {
    await migrateJobStats(db, statsSchema);
    // Two jobs' registries with the metrics the connectors and operators register, moved
    // between snapshots as a running job would move them.
    // Twelve snapshots 10 s apart over the last two minutes, as a job running that long
    // would have written them (the dashboard buckets them by 30 s).
    const snapshots = 12;
    const start = Date.now() - snapshots * 10_000;
    let clock = start;
    const jobs = ["reviews-enrichment", "reviews-recommendation"].map(
      (job, j) => {
        const registry = new Registry();
        const c = (name: string, labelNames: string[]) =>
          new Counter({ name, help: name, labelNames, registers: [registry] });
        const m = {
          in: c(METRIC_NAMES.recordsIn, ["connector", "name"]),
          out: c(METRIC_NAMES.recordsOut, ["connector", "name"]),
          bad: c(METRIC_NAMES.badRecords, ["connector", "name", "fate"]),
          dedupe: c(METRIC_NAMES.dedupe, ["name", "outcome"]),
          late: c(LATE_RECORDS_METRIC, []),
          lag: new Gauge({
            name: METRIC_NAMES.consumerLag,
            help: "lag",
            labelNames: ["name", "topic", "partition"],
            registers: [registry],
          }),
        };
        const stats = startJobStats({
          db,
          schema: statsSchema,
          job,
          registry,
          intervalMs: 3_600_000,
          now: () => clock,
        });
        return { m, stats, scale: j + 1 };
      },
    );
    for (let i = 1; i <= snapshots; i++) {
      clock = start + i * 10_000;
      for (const { m, stats, scale } of jobs) {
        m.in.inc({ connector: "kafka", name: "in" }, 100 * scale + 10 * i);
        m.out.inc({ connector: "kafka", name: "out" }, 90 * scale + 10 * i);
        m.bad.inc(
          { connector: "dead-letter", name: "dl", fate: "dead_lettered" },
          i % 2,
        );
        m.bad.inc({ connector: "dead-letter", name: "dl", fate: "skipped" }, 5);
        m.dedupe.inc({ name: "d", outcome: "hit" }, scale * (i % 3));
        m.dedupe.inc({ name: "d", outcome: "claimed" }, 50);
        m.late.inc(i === 3 ? 2 : 0);
        m.lag.set(
          { name: "in", topic: "t", partition: "0" },
          60 * scale - 4 * i,
        );
        await stats.snapshot();
      }
    }
    for (const { stats } of jobs) await stats.stop();
    const totals = await db.pool.query<{
      dead: string;
      hits: string;
      late: string;
    }>(
      `SELECT sum(dead_letters_delta) AS dead, sum(dedupe_hits_delta) AS hits, sum(late_records_delta) AS late FROM ${statsSchema}.job_stats_rates`,
    );
    // dead letters: 6 of 12 snapshots add 1, per job; hits: (1+2+0) x 4 per job, x scale
    // 1 and 2; late: 2 per job
    expect(totals.rows[0]).toEqual({ dead: "12", hits: "36", late: "4" });
  } finally {
    await db.end();
  }
  await importDashboards(api, {
    databaseUrl: env.databaseUrl,
    analyticsSchema: names.analyticsSchema,
    statsSchema,
  });
  await ensureEmbedded(api, "pipelines");
  http = await startHttpServer({
    port: 0,
    host: "127.0.0.1",
    registry: new Registry(),
    readiness: () => ({ ready: true }),
    routes: [
      dashboardPageRoute({ superset: api }),
      dashboardPageRoute({ superset: api, slug: "pipelines" }),
    ],
  });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
  });
}, 400_000);

afterAll(async () => {
  await browser?.close();
  await http?.close();
  const db = createPostgresPool({ connectionString: env.databaseUrl });
  try {
    await db.pool.query(`DROP SCHEMA IF EXISTS ${statsSchema} CASCADE`);
    await db.pool.query(`DROP SCHEMA IF EXISTS ${names.catalogSchema} CASCADE`);
    await db.pool.query(
      `DROP SCHEMA IF EXISTS ${names.analyticsSchema} CASCADE`,
    );
  } finally {
    await db.end();
  }
  const { kafkaAdmin } = await import("../connectors/kafka/index.js");
  const admin = kafkaAdmin({ brokers: env.kafkaBrokers });
  await admin.deleteTopics(Object.values(names.topics)).catch(() => undefined);
  await admin
    .deleteGroups([
      `reviews-enrichment-${runId}`,
      `reviews-recommendation-${runId}`,
    ])
    .catch(() => undefined);
  await admin.close();
  const { createCassandraClient } =
    await import("../connectors/cassandra/index.js");
  const cassandra = createCassandraClient({
    contactPoints: env.cassandraContactPoints,
    localDataCenter: env.cassandraLocalDc,
    keyspace: names.keyspace,
  });
  await cassandra.client.execute(`DROP KEYSPACE IF EXISTS ${names.keyspace}`);
  await cassandra.close();
  // Last, once the run's data is gone: point the shared Superset back at the default schemas.
  if (api !== undefined)
    await importDashboards(api, { databaseUrl: env.databaseUrl });
}, 120_000);

/** What each chart's data call answered, as the embedded dashboard made it. */
interface ChartAnswer {
  readonly sliceId: number | undefined;
  readonly status: number;
  readonly rows: number;
  readonly error: string | undefined;
}

/**
 * Opens the embedded page, waits until every chart of the dashboard has answered and drawn,
 * and saves a screenshot. Returns the answers and the texts of error boxes in the iframe.
 */
async function openEmbedded(
  slug: string,
  charts: number,
): Promise<{ answers: ChartAnswer[]; alerts: string[]; page: Page }> {
  const page = await browser.newPage({
    viewport: { width: 1440, height: 1400 },
  });
  const answers: ChartAnswer[] = [];
  page.on("response", (r) => {
    if (!r.url().includes("/api/v1/chart/data")) return;
    void (async () => {
      const request = r.request().postDataJSON() as {
        form_data?: { slice_id?: number };
      } | null;
      let rows = 0;
      let error: string | undefined;
      try {
        const body = (await r.json()) as {
          result?: { rowcount?: number; error?: string | null }[];
          message?: string;
          errors?: { message: string }[];
        };
        rows = (body.result ?? []).reduce((n, q) => n + (q.rowcount ?? 0), 0);
        error =
          body.result?.find((q) => q.error)?.error ??
          body.errors?.[0]?.message ??
          body.message;
      } catch (e) {
        error = `unreadable answer: ${String(e)}`;
      }
      answers.push({
        sliceId: request?.form_data?.slice_id,
        status: r.status(),
        rows,
        error,
      });
    })();
  });
  await page.goto(`http://127.0.0.1:${http.port}/dashboards/${slug}`);
  await page.waitForSelector("#dashboard iframe", { timeout: 30_000 });
  const frame = page.frameLocator("#dashboard iframe");
  // Every chart answered, and every chart holder drew something (canvas, svg or a table);
  // a failed answer stops the wait at once, so the assertions name it.
  const failedAnswer = (): boolean =>
    answers.some((a) => a.status !== 200 || a.error !== undefined);
  await expect
    .poll(
      () => (failedAnswer() || answers.length >= charts ? "done" : "waiting"),
      { timeout: 90_000, interval: 500 },
    )
    .toBe("done");
  if (!failedAnswer())
    await expect
      .poll(
        async () =>
          frame
            .locator(".dashboard-component-chart-holder")
            .filter({ has: frame.locator("canvas, svg, table") })
            .count(),
        { timeout: 60_000, interval: 500 },
      )
      .toBeGreaterThanOrEqual(charts);
  await page.waitForTimeout(1_500); // ECharts' entry animation, for the screenshot only
  const alerts = await frame
    .locator('[role="alert"], .alert-danger, [data-test="alert"]')
    .allInnerTexts();
  const noData = await frame.getByText("No results were returned").count();
  if (noData > 0)
    alerts.push(`${noData} chart(s) say "No results were returned"`);
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({
    path: join(SCREENSHOTS, `${slug}.png`),
    fullPage: true,
  });
  return { answers, alerts, page };
}

describe("the embedded dashboards in a real browser", () => {
  it("shows every Recommendations chart with data from the reviews pipeline's tables", async () => {
    const { answers, alerts, page } = await openEmbedded("recommendations", 6);
    try {
      expect(alerts).toEqual([]);
      const failed = answers.filter(
        (a) => a.status !== 200 || a.error !== undefined || a.rows === 0,
      );
      expect(failed).toEqual([]);
      expect(new Set(answers.map((a) => a.sliceId)).size).toBe(6);
    } finally {
      await page.close();
    }
  });

  it("shows every Pipelines chart with the runtime's job stats", async () => {
    const { answers, alerts, page } = await openEmbedded("pipelines", 5);
    try {
      expect(alerts).toEqual([]);
      const failed = answers.filter(
        (a) => a.status !== 200 || a.error !== undefined || a.rows === 0,
      );
      expect(failed).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it("never hands the admin credentials to the browser, only a guest token", async () => {
    const r = await fetch(
      `http://127.0.0.1:${http.port}/dashboards/recommendations/guest-token`,
    );
    const body = (await r.json()) as { token: string };
    const html = await (
      await fetch(`http://127.0.0.1:${http.port}/dashboards/recommendations`)
    ).text();
    expect(r.status).toBe(200);
    const claims = JSON.parse(
      Buffer.from(body.token.split(".")[1] ?? "", "base64url").toString(),
    ) as { type: string; resources: { type: string }[] };
    expect(claims.type).toBe("guest");
    expect(claims.resources).toEqual([
      expect.objectContaining({ type: "dashboard" }),
    ]);
    expect(html).not.toContain(api.settings.password);
    expect(JSON.stringify(body)).not.toContain(api.settings.password);
  });
});
