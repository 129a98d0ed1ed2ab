import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import type { ServerResponse } from "node:http";
import type { SupersetClient } from "../stack/superset.js";
import type { HttpRoute } from "./http.js";

/** Options of {@link dashboardPageRoute}. */
export interface DashboardPageOptions {
  /** Superset's API as its admin; used only on the server. */
  readonly superset: SupersetClient;
  /** Slug of the embedded dashboard. Default `recommendations`. */
  readonly slug?: string;
  /** Where the browser reaches Superset. Default the client's URL. */
  readonly publicUrl?: string;
  /** Name of the guest user Superset's logs show. Default `sluice-embedded`. */
  readonly guestUsername?: string;
}

const require = createRequire(import.meta.url);

function send(
  res: ServerResponse,
  status: number,
  type: string,
  body: string | Buffer,
): void {
  res.writeHead(status, {
    "content-type": type,
    "content-length": Buffer.byteLength(body),
    "cache-control": "no-store",
  });
  res.end(body);
}

const escapeHtml = (s: string): string =>
  s.replace(
    /[&<>"]/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c] ?? c,
  );

/** JSON for an inline <script>: `<` escaped so no value can close the tag. */
const inline = (v: unknown): string =>
  JSON.stringify(v).replace(/</g, "\\u003c");

function page(
  title: string,
  uuid: string,
  domain: string,
  tokenPath: string,
): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(title)} · Sluice</title>
<style>
  html, body { margin: 0; height: 100%; font-family: system-ui, sans-serif; }
  #dashboard { height: 100vh; }
  #dashboard iframe { width: 100%; height: 100%; border: 0; }
  #error { color: #b00020; padding: 1em; white-space: pre-wrap; }
</style>
</head>
<body>
<div id="dashboard" data-status="loading"></div>
<div id="error" hidden></div>
<script src="/dashboards/embedded-sdk.js"></script>
<script>
  const mount = document.getElementById("dashboard");
  const fail = (e) => {
    mount.dataset.status = "error";
    const box = document.getElementById("error");
    box.hidden = false;
    box.textContent = "Cannot embed the dashboard: " + (e && e.message ? e.message : String(e));
  };
  supersetEmbeddedSdk
    .embedDashboard({
      id: ${inline(uuid)},
      supersetDomain: ${inline(domain)},
      mountPoint: mount,
      fetchGuestToken: async () => {
        const r = await fetch(${inline(tokenPath)});
        const body = await r.json();
        if (!r.ok) throw new Error(body.error || r.statusText);
        return body.token;
      },
      dashboardUiConfig: { hideTitle: false, filters: { expanded: false } },
    })
    .then(() => { mount.dataset.status = "embedded"; })
    .catch(fail);
</script>
</body>
</html>
`;
}

/**
 * The embedded dashboard page, served by the runtime's HTTP server
 * (`startHttpServer({ routes: [dashboardPageRoute(...)] })`):
 *
 * | route | answers |
 * |---|---|
 * | `GET /dashboards/<slug>` | an HTML page embedding the dashboard with `@superset-ui/embedded-sdk` |
 * | `GET /dashboards/<slug>/guest-token` | `{"token": …}`: a guest token for that dashboard only, fetched from Superset's `/api/v1/security/guest_token/` |
 * | `GET /dashboards/embedded-sdk.js` | the SDK's browser bundle from `node_modules` |
 *
 * The admin credentials stay on the server; the browser only ever holds a short-lived guest
 * token scoped to the one dashboard.
 *
 * @example
 * ```ts
 * const api = new SupersetClient(await supersetSettings());
 * const http = await startHttpServer({ port: 8090, registry, readiness, routes: [dashboardPageRoute({ superset: api })] });
 * // open http://127.0.0.1:8090/dashboards/recommendations
 * ```
 */
export function dashboardPageRoute(options: DashboardPageOptions): HttpRoute {
  const slug = options.slug ?? "recommendations";
  const base = `/dashboards/${slug}`;
  const api = options.superset;
  const embeddedUuid = async (): Promise<{ uuid: string; title: string }> => {
    const { result } = await api.json<{ result: { uuid: string } }>(
      "GET",
      `/api/v1/dashboard/${slug}/embedded`,
    );
    const d = await api.json<{ result: { dashboard_title: string } }>(
      "GET",
      `/api/v1/dashboard/${slug}`,
    );
    return { uuid: result.uuid, title: d.result.dashboard_title };
  };
  return async (path, _req, res) => {
    const json = (status: number, body: unknown): void =>
      send(res, status, "application/json", JSON.stringify(body));
    try {
      if (path === "/dashboards/embedded-sdk.js") {
        const file = require.resolve("@superset-ui/embedded-sdk");
        send(res, 200, "text/javascript", await readFile(file));
        return true;
      }
      if (path === base) {
        const { uuid, title } = await embeddedUuid();
        send(
          res,
          200,
          "text/html; charset=utf-8",
          page(
            title,
            uuid,
            options.publicUrl ?? api.settings.url,
            `${base}/guest-token`,
          ),
        );
        return true;
      }
      if (path === `${base}/guest-token`) {
        const { uuid } = await embeddedUuid();
        const { token } = await api.json<{ token: string }>(
          "POST",
          "/api/v1/security/guest_token/",
          {
            user: {
              username: options.guestUsername ?? "sluice-embedded",
              first_name: "Sluice",
              last_name: "Viewer",
            },
            resources: [{ type: "dashboard", id: uuid }],
            rls: [],
          },
        );
        json(200, { token });
        return true;
      }
    } catch (error) {
      // Superset's answer may name the admin user, never its password; pass on the status line.
      json(502, {
        error: `Superset: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`,
      });
      return true;
    }
    return false;
  };
}
