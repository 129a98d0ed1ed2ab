import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SupersetClient } from "../stack/superset.js";
import { dashboardPageRoute } from "./dashboard-page.js";
import { startHttpServer, type HttpServer } from "./http.js";

const PASSWORD = "admin-secret-password";
const UUID = "0b8a1c52-6f7e-4c1e-9a57-3d2f4f1e2a10";

/** A stand-in for Superset's REST API: login → CSRF token + session cookie → calls. */
class FakeSuperset {
  readonly guestRequests: {
    headers: IncomingMessage["headers"];
    body: unknown;
  }[] = [];
  logins = 0;
  embedded = true;
  server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const text = Buffer.concat(chunks).toString();
      const body: unknown = text === "" ? undefined : JSON.parse(text);
      const send = (status: number, value: unknown, headers = {}): void => {
        res.writeHead(status, {
          "content-type": "application/json",
          ...headers,
        });
        res.end(JSON.stringify(value));
      };
      const authed = req.headers.authorization === "Bearer jwt-1";
      if (req.url === "/api/v1/security/login") {
        this.logins += 1;
        const ok = (body as { password?: string }).password === PASSWORD;
        return ok
          ? send(200, { access_token: "jwt-1" })
          : send(401, { message: "bad" });
      }
      if (!authed) return send(401, { msg: "Missing Authorization Header" });
      if (req.url === "/api/v1/security/csrf_token/")
        return send(
          200,
          { result: "csrf-1" },
          { "set-cookie": "session=s1; HttpOnly; Path=/" },
        );
      if (req.url === "/api/v1/dashboard/recommendations/embedded")
        return this.embedded
          ? send(200, { result: { uuid: UUID } })
          : send(404, { message: "Not found" });
      if (req.url === "/api/v1/dashboard/recommendations")
        return send(200, {
          result: { dashboard_title: "Recommendations <b>" },
        });
      if (
        req.url === "/api/v1/security/guest_token/" &&
        req.method === "POST"
      ) {
        this.guestRequests.push({ headers: req.headers, body });
        if (
          req.headers["x-csrftoken"] !== "csrf-1" ||
          req.headers.cookie !== "session=s1"
        )
          return send(400, { message: "CSRF token is missing" });
        return send(200, { token: "guest.jwt.token" });
      }
      send(404, { message: "Not found" });
    });
  });
  async start(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, "127.0.0.1", r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
}

const fake = new FakeSuperset();
let http: HttpServer;
let base: string;

beforeAll(async () => {
  const url = await fake.start();
  const api = new SupersetClient({
    url,
    username: "admin",
    password: PASSWORD,
  });
  http = await startHttpServer({
    port: 0,
    host: "127.0.0.1",
    registry: new Registry(),
    readiness: () => ({ ready: true }),
    routes: [
      dashboardPageRoute({
        superset: api,
        publicUrl: "http://superset.example:8088",
      }),
    ],
  });
  base = `http://127.0.0.1:${http.port}`;
});

afterAll(async () => {
  await http.close();
  await new Promise((r) => fake.server.close(r));
});

describe("dashboardPageRoute", () => {
  it("serves a page that embeds the dashboard by its embed uuid, with no credential in it", async () => {
    const r = await fetch(`${base}/dashboards/recommendations`);
    const html = await r.text();
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toContain("text/html");
    expect(html).toContain(`id: "${UUID}"`);
    expect(html).toContain(`supersetDomain: "http://superset.example:8088"`);
    expect(html).toContain('src="/dashboards/embedded-sdk.js"');
    expect(html).toContain("<title>Recommendations &lt;b&gt; · Sluice</title>");
    expect(html).not.toContain(PASSWORD);
    expect(html).not.toContain("jwt-1");
  });

  it("fetches a guest token for that dashboard only, sending the CSRF token and session cookie", async () => {
    const r = await fetch(`${base}/dashboards/recommendations/guest-token`);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ token: "guest.jwt.token" });
    const last = fake.guestRequests.at(-1)!;
    expect(last.headers["x-csrftoken"]).toBe("csrf-1");
    expect(last.body).toMatchObject({
      resources: [{ type: "dashboard", id: UUID }],
      rls: [],
    });
  });

  it("logs in once and reuses the token for later calls", async () => {
    const before = fake.logins;
    await fetch(`${base}/dashboards/recommendations/guest-token`);
    await fetch(`${base}/dashboards/recommendations`);
    expect(fake.logins).toBe(before);
  });

  it("serves the embedded SDK's browser bundle", async () => {
    const r = await fetch(`${base}/dashboards/embedded-sdk.js`);
    expect(r.status).toBe(200);
    expect(await r.text()).toContain("supersetEmbeddedSdk");
  });

  it("answers 502 naming Superset's answer when the dashboard is not embeddable", async () => {
    fake.embedded = false;
    try {
      const r = await fetch(`${base}/dashboards/recommendations`);
      expect(r.status).toBe(502);
      const body = (await r.json()) as { error: string };
      expect(body.error).toMatch(
        /\/api\/v1\/dashboard\/recommendations\/embedded answered 404/,
      );
      expect(body.error).not.toContain(PASSWORD);
    } finally {
      fake.embedded = true;
    }
  });

  it("leaves other paths to the server's 404", async () => {
    expect((await fetch(`${base}/dashboards/other`)).status).toBe(404);
    expect((await fetch(`${base}/metrics`)).status).toBe(200);
  });
});
