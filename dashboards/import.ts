import { SupersetApiError, type SupersetClient } from "../stack/superset.js";
import { bundleAssets, type BundleOptions } from "./bundle.js";

/** The dashboards in `dashboards/assets/dashboards/`, by slug. */
export const DASHBOARD_SLUGS = ["recommendations", "pipelines"] as const;

/** The dashboard the runtime's page embeds. */
export const EMBEDDED_SLUG = "recommendations";

/** One imported dashboard. */
export interface ImportedDashboard {
  readonly slug: string;
  readonly id: number;
  readonly title: string;
  readonly url: string;
  readonly charts: number;
}

/** What {@link importDashboards} did. */
export interface ImportResult {
  readonly dashboards: readonly ImportedDashboard[];
  /** UUID the embedded SDK needs for the Recommendations dashboard. */
  readonly embeddedUuid: string;
}

/**
 * Bundles the assets and imports them through `POST /api/v1/assets/import/` (objects are
 * matched by their fixed UUIDs, so a second import overwrites instead of duplicating), with
 * the database password in the call's `passwords` field only; then enables embedding on
 * the Recommendations dashboard (any origin) and returns the dashboards and the embed UUID.
 *
 * @example
 * ```ts
 * const api = new SupersetClient(await supersetSettings());
 * const r = await importDashboards(api, { databaseUrl: endpoints().databaseUrl, analyticsSchema: "analytics_demo" });
 * ```
 */
export async function importDashboards(
  api: SupersetClient,
  options: BundleOptions,
): Promise<ImportResult> {
  const bundle = await bundleAssets(options);
  const form = new FormData();
  form.append(
    "bundle",
    new Blob([bundle.zip], { type: "application/zip" }),
    "sluice_assets.zip",
  );
  form.append("passwords", JSON.stringify(bundle.passwords));
  await api.json("POST", "/api/v1/assets/import/", form);
  const dashboards: ImportedDashboard[] = [];
  for (const slug of DASHBOARD_SLUGS) {
    const { result } = await api.json<{
      result: { id: number; dashboard_title: string; url: string };
    }>("GET", `/api/v1/dashboard/${slug}`);
    const charts = await api.json<{ result: unknown[] }>(
      "GET",
      `/api/v1/dashboard/${slug}/charts`,
    );
    dashboards.push({
      slug,
      id: result.id,
      title: result.dashboard_title,
      url: `${api.settings.url}${result.url}`,
      charts: charts.result.length,
    });
  }
  return { dashboards, embeddedUuid: await ensureEmbedded(api, EMBEDDED_SLUG) };
}

/** The embed UUID of a dashboard, enabling embedding (any origin) when it is off. */
export async function ensureEmbedded(
  api: SupersetClient,
  slug: string,
): Promise<string> {
  try {
    const { result } = await api.json<{ result: { uuid: string } }>(
      "GET",
      `/api/v1/dashboard/${slug}/embedded`,
    );
    return result.uuid;
  } catch (error) {
    if (!(error instanceof SupersetApiError) || error.status !== 404)
      throw error;
  }
  const { result } = await api.json<{ result: { id: number } }>(
    "GET",
    `/api/v1/dashboard/${slug}`,
  );
  const created = await api.json<{ result: { uuid: string } }>(
    "POST",
    `/api/v1/dashboard/${result.id}/embedded`,
    { allowed_domains: [] },
  );
  return created.result.uuid;
}
