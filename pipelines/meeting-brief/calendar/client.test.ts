import { afterEach, describe, expect, it } from "vitest";
import { HttpApiError } from "../http.js";
import { seededRandom } from "../../../operators/internal/random.js";
import { GoogleCalendarClient } from "./client.js";
import { startCalendarSimulator, type CalendarSimulator } from "./simulator.js";

let sim: CalendarSimulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

const T0 = Date.parse("2026-11-23T10:00:00Z");
const client = (s: CalendarSimulator, maxAttempts = 5) =>
  new GoogleCalendarClient({
    baseUrl: s.baseUrl,
    tokenUrl: s.tokenUrl,
    clientId: s.clientId,
    clientSecret: s.clientSecret,
    retry: {
      sleep: () => Promise.resolve(),
      random: seededRandom(1),
      maxAttempts,
    },
  });
const ev = (id: string, hour: number) => ({
  id,
  summary: id,
  start: { dateTime: new Date(T0 + hour * 3_600_000).toISOString() },
  end: { dateTime: new Date(T0 + (hour + 1) * 3_600_000).toISOString() },
});

describe("GoogleCalendarClient against the simulator", () => {
  it("pages a full list and ends with a sync token; the token then returns only changes", async () => {
    sim = await startCalendarSimulator({ now: () => T0 });
    const { accessToken } = sim.addAccount("a@sales.example", "r");
    for (let i = 0; i < 5; i++) sim.putEvent("a@sales.example", ev(`e${i}`, i));
    const c = client(sim);
    const p1 = await c.listEvents(accessToken, "primary", {
      timeMin: new Date(T0).toISOString(),
      singleEvents: true,
      maxResults: 2,
    });
    expect(p1.items.map((e) => e.id)).toEqual(["e0", "e1"]);
    expect(p1.nextSyncToken).toBeUndefined();
    const p2 = await c.listEvents(accessToken, "primary", {
      timeMin: new Date(T0).toISOString(),
      singleEvents: true,
      maxResults: 2,
      pageToken: p1.nextPageToken!,
    });
    const p3 = await c.listEvents(accessToken, "primary", {
      timeMin: new Date(T0).toISOString(),
      singleEvents: true,
      maxResults: 2,
      pageToken: p2.nextPageToken!,
    });
    expect([...p2.items, ...p3.items].map((e) => e.id)).toEqual([
      "e2",
      "e3",
      "e4",
    ]);
    expect(p3.nextSyncToken).toBeDefined();
    sim.putEvent("a@sales.example", ev("e1", 7));
    sim.cancelEvent("a@sales.example", "e3");
    const inc = await c.listEvents(accessToken, "primary", {
      syncToken: p3.nextSyncToken!,
    });
    expect(inc.items.map((e) => [e.id, e.status])).toEqual([
      ["e1", "confirmed"],
      ["e3", "cancelled"],
    ]);
  });

  it("answers 400 when timeMin comes with a syncToken, as Google does", async () => {
    sim = await startCalendarSimulator({ now: () => T0 });
    const { accessToken } = sim.addAccount("a@sales.example", "r");
    const full = await client(sim).listEvents(accessToken, "primary", {});
    const error = await client(sim)
      .listEvents(accessToken, "primary", {
        syncToken: full.nextSyncToken!,
        timeMin: new Date(T0).toISOString(),
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpApiError);
    expect((error as HttpApiError).status).toBe(400);
  });

  it("reports 401 for an expired token and 410 fullSyncRequired for a stale sync token", async () => {
    sim = await startCalendarSimulator({ now: () => T0 });
    const { accessToken } = sim.addAccount("a@sales.example", "r");
    const c = client(sim);
    const full = await c.listEvents(accessToken, "primary", {});
    sim.invalidateSyncTokens();
    const gone = (await c
      .listEvents(accessToken, "primary", { syncToken: full.nextSyncToken! })
      .catch((e: unknown) => e)) as HttpApiError;
    expect([gone.status, gone.reason, gone.code]).toEqual([
      410,
      "fullSyncRequired",
      "CONFLICT",
    ]);
    sim.expireAccessTokens();
    const unauth = (await c
      .listEvents(accessToken, "primary", {})
      .catch((e: unknown) => e)) as HttpApiError;
    expect([unauth.status, unauth.reason, unauth.retryable]).toEqual([
      401,
      "authError",
      false,
    ]);
  });

  it("refreshes a token with grant_type=refresh_token; a revoked refresh token is invalid_grant, not retried", async () => {
    sim = await startCalendarSimulator({
      now: () => T0,
      accessTokenTtlS: 1_800,
    });
    sim.addAccount("a@sales.example", "1//r");
    const c = client(sim);
    const t = await c.refreshAccessToken("1//r");
    expect(t.expiresInS).toBe(1_800);
    await c.listEvents(t.accessToken, "primary", {});
    sim.revokeRefreshToken("1//r");
    const e = (await c
      .refreshAccessToken("1//r")
      .catch((x: unknown) => x)) as HttpApiError;
    expect([e.status, e.reason]).toEqual([400, "invalid_grant"]);
    expect(sim.stats.tokenRefreshes).toBe(1);
  });

  it("retries 503/429 and gives up after maxAttempts with the attempts in the error", async () => {
    sim = await startCalendarSimulator({ now: () => T0, failureRate: 1 });
    const { accessToken } = sim.addAccount("a@sales.example", "r");
    const e = (await client(sim, 3)
      .listEvents(accessToken, "primary", {})
      .catch((x: unknown) => x)) as Error & { code: string };
    expect(e.code).toBe("RETRY_BUDGET_EXHAUSTED");
    expect(e.message).toMatch(/gave up after 3 attempts/);
    expect(sim.stats.failuresInjected).toBe(3);
  });

  it("never prints the client secret", () => {
    const c = new GoogleCalendarClient({
      clientId: "id",
      clientSecret: "s3cr3t",
    });
    expect(JSON.stringify(c)).not.toContain("s3cr3t");
  });
});
