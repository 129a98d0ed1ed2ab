// A local stand-in for Google Calendar v3 events.list and the OAuth 2.0 token endpoint, on
// 127.0.0.1, with configurable latency and failure rate, expiring access tokens (401) and
// sync tokens that can be invalidated (410 fullSyncRequired), for the demo and the tests.
import type { IncomingMessage, ServerResponse } from "node:http";
import { startLocalHttpServer } from "../../../connectors/internal/local-http-server.js";
import { seededRandom } from "../../../operators/internal/random.js";
import type {
  EventResource,
  EventsListResponse,
  GoogleErrorBody,
} from "./api.js";

/** Options of {@link startCalendarSimulator}. */
export interface CalendarSimulatorOptions {
  readonly clientId?: string;
  readonly clientSecret?: string;
  /** Added to every answer. Default 0. */
  readonly latencyMs?: number;
  /** Share of calls answered 503 or 429 instead. Default 0. */
  readonly failureRate?: number;
  readonly seed?: number;
  /** The simulator's clock (tokens expire by it). Default `Date.now`. */
  readonly now?: () => number;
  /** Lifetime of issued access tokens. Default 3 600 s. */
  readonly accessTokenTtlS?: number;
  /** Items per page when the client sends no maxResults. Default 250 (Google's). */
  readonly defaultPageSize?: number;
}

/** Counters of what the simulator answered. */
export interface CalendarSimulatorStats {
  listCalls: number;
  /** Events (and cancellations) returned by events.list, all pages. */
  itemsServed: number;
  fullSyncs: number;
  incrementalSyncs: number;
  tokenRefreshes: number;
  unauthorized: number;
  gone: number;
  failuresInjected: number;
}

/** A running simulator. */
export interface CalendarSimulator {
  /** Base URL of the Calendar API (`…/calendar/v3`). */
  readonly baseUrl: string;
  /** URL of the token endpoint. */
  readonly tokenUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly stats: CalendarSimulatorStats;
  /** Adds a user; returns a valid access token and its expiry (epoch ms) for the seed row. */
  addAccount(
    email: string,
    refreshToken: string,
  ): { accessToken: string; expiresMs: number };
  /** Creates or changes an event of `email`'s primary calendar (bumps `updated`). */
  putEvent(email: string, event: Omit<EventResource, "updated" | "kind">): void;
  /** Puts a raw item into the calendar as is (a malformed event, for bad-row tests). */
  putRawItem(
    email: string,
    item: Record<string, unknown> & { id: string },
  ): void;
  /** Cancels (deletes) an event: a later sync returns it with status "cancelled". */
  cancelEvent(email: string, eventId: string): void;
  /** Makes every issued access token expire now. */
  expireAccessTokens(): void;
  /** Makes every sync token issued so far stale (410 on next use). */
  invalidateSyncTokens(): void;
  /** Revokes a refresh token (`invalid_grant`). */
  revokeRefreshToken(refreshToken: string): void;
  setFailureRate(rate: number): void;
  close(): Promise<void>;
}

interface Stored {
  item: Record<string, unknown> & { id: string };
  seq: number;
}

interface Account {
  email: string;
  events: Map<string, Stored>;
  seq: number;
}

const b64 = (v: unknown): string =>
  Buffer.from(JSON.stringify(v)).toString("base64url");
const unb64 = (s: string): unknown => {
  try {
    return JSON.parse(Buffer.from(s, "base64url").toString("utf8")) as unknown;
  } catch {
    return undefined;
  }
};

function startOf(item: Record<string, unknown>, key: "start" | "end"): number {
  const t = item[key] as { dateTime?: string; date?: string } | undefined;
  const v =
    t?.dateTime ?? (t?.date === undefined ? undefined : `${t.date}T00:00:00Z`);
  return v === undefined ? Number.NaN : Date.parse(v);
}

function googleError(
  code: number,
  reason: string,
  message: string,
): GoogleErrorBody {
  return {
    error: {
      code,
      message,
      errors: [
        { domain: code === 410 ? "calendar" : "global", reason, message },
      ],
    },
  };
}

/**
 * Starts the simulator on 127.0.0.1 (a free port).
 *
 * @example
 * ```ts
 * const sim = await startCalendarSimulator({ failureRate: 0.2 });
 * const { accessToken, expiresMs } = sim.addAccount("ana@sales.example", "refresh-ana");
 * sim.putEvent("ana@sales.example", { id: "e1", summary: "Intro", start: { dateTime: "2026-11-23T09:00:00Z" }, end: { dateTime: "2026-11-23T09:30:00Z" } });
 * ```
 */
export async function startCalendarSimulator(
  options: CalendarSimulatorOptions = {},
): Promise<CalendarSimulator> {
  const clientId = options.clientId ?? "sim-client-id";
  const clientSecret = options.clientSecret ?? "sim-client-secret";
  const now = options.now ?? Date.now;
  const ttlS = options.accessTokenTtlS ?? 3_600;
  const pageSize = options.defaultPageSize ?? 250;
  const random = seededRandom(options.seed ?? 7);
  let failureRate = options.failureRate ?? 0;
  let generation = 1;
  let issued = 0;
  const accounts = new Map<string, Account>();
  const accessTokens = new Map<string, { email: string; expiresMs: number }>();
  const refreshTokens = new Map<string, string>();
  const stats: CalendarSimulatorStats = {
    listCalls: 0,
    itemsServed: 0,
    fullSyncs: 0,
    incrementalSyncs: 0,
    tokenRefreshes: 0,
    unauthorized: 0,
    gone: 0,
    failuresInjected: 0,
  };

  const issue = (email: string): { accessToken: string; expiresMs: number } => {
    const accessToken = `ya29.sim-${++issued}-${Math.floor(random() * 1e9).toString(36)}`;
    const expiresMs = now() + ttlS * 1000;
    accessTokens.set(accessToken, { email, expiresMs });
    return { accessToken, expiresMs };
  };
  const account = (email: string): Account => {
    const a = accounts.get(email);
    if (a === undefined)
      throw new Error(
        `calendar simulator: no account ${email} (call addAccount first)`,
      );
    return a;
  };
  const iso = (ms: number): string => new Date(ms).toISOString();

  const send = (res: ServerResponse, status: number, body: unknown): void => {
    const text = JSON.stringify(body);
    const out = (): void => {
      res.writeHead(status, {
        "content-type": "application/json; charset=UTF-8",
      });
      res.end(text);
    };
    if ((options.latencyMs ?? 0) > 0) setTimeout(out, options.latencyMs);
    else out();
  };

  const list = (
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    calendarId: string,
  ): void => {
    stats.listCalls++;
    const auth = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1];
    const token = auth === undefined ? undefined : accessTokens.get(auth);
    if (token === undefined || token.expiresMs <= now()) {
      stats.unauthorized++;
      send(res, 401, googleError(401, "authError", "Invalid Credentials"));
      return;
    }
    if (calendarId !== "primary" && calendarId !== token.email) {
      send(res, 404, googleError(404, "notFound", "Not Found"));
      return;
    }
    const acc = account(token.email);
    const p = url.searchParams;
    const syncToken = p.get("syncToken");
    if (syncToken !== null)
      for (const forbidden of [
        "timeMin",
        "timeMax",
        "orderBy",
        "q",
        "updatedMin",
      ])
        if (p.has(forbidden)) {
          send(
            res,
            400,
            googleError(
              400,
              "invalid",
              `${forbidden} cannot be used together with syncToken`,
            ),
          );
          return;
        }
    const max = Math.min(
      Number(p.get("maxResults") ?? pageSize) || pageSize,
      2_500,
    );
    // The query a page belongs to travels in its pageToken, as Google's does.
    let q: {
      from: number;
      upTo: number;
      offset: number;
      timeMin?: number;
      timeMax?: number;
      full: boolean;
    };
    const pageToken = p.get("pageToken");
    if (pageToken !== null) {
      const parsed = unb64(pageToken) as typeof q | undefined;
      if (parsed === undefined || typeof parsed.offset !== "number") {
        send(res, 400, googleError(400, "invalid", "Invalid page token"));
        return;
      }
      q = parsed;
    } else if (syncToken !== null) {
      const t = unb64(syncToken) as
        { a?: string; s?: number; g?: number } | undefined;
      if (t?.a !== acc.email || typeof t.s !== "number" || t.g !== generation) {
        stats.gone++;
        send(
          res,
          410,
          googleError(
            410,
            "fullSyncRequired",
            "Sync token is no longer valid, a full sync is required.",
          ),
        );
        return;
      }
      stats.incrementalSyncs++;
      q = { from: t.s, upTo: acc.seq, offset: 0, full: false };
    } else {
      stats.fullSyncs++;
      const timeMin = p.get("timeMin");
      const timeMax = p.get("timeMax");
      q = {
        from: 0,
        upTo: acc.seq,
        offset: 0,
        full: true,
        ...(timeMin === null ? {} : { timeMin: Date.parse(timeMin) }),
        ...(timeMax === null ? {} : { timeMax: Date.parse(timeMax) }),
      };
    }
    const matching = [...acc.events.values()]
      .filter((s) => s.seq > q.from && s.seq <= q.upTo)
      .filter((s) => !q.full || s.item["status"] !== "cancelled")
      .filter(
        (s) =>
          q.timeMin === undefined || !(startOf(s.item, "end") <= q.timeMin),
      )
      .filter(
        (s) =>
          q.timeMax === undefined || !(startOf(s.item, "start") >= q.timeMax),
      )
      .sort((a, b) => a.seq - b.seq);
    const page = matching.slice(q.offset, q.offset + max);
    const more = q.offset + max < matching.length;
    stats.itemsServed += page.length;
    const body: EventsListResponse = {
      kind: "calendar#events",
      summary: acc.email,
      updated: iso(now()),
      timeZone: "UTC",
      items: page.map((s) => s.item as unknown as EventResource),
      ...(more
        ? { nextPageToken: b64({ ...q, offset: q.offset + max }) }
        : { nextSyncToken: b64({ a: acc.email, s: q.upTo, g: generation }) }),
    };
    send(res, 200, body);
  };

  const token = (body: string, res: ServerResponse): void => {
    const f = new URLSearchParams(body);
    if (
      f.get("client_id") !== clientId ||
      f.get("client_secret") !== clientSecret
    ) {
      send(res, 401, {
        error: "invalid_client",
        error_description: "The OAuth client was not found.",
      });
      return;
    }
    if (f.get("grant_type") !== "refresh_token") {
      send(res, 400, { error: "unsupported_grant_type" });
      return;
    }
    const email = refreshTokens.get(f.get("refresh_token") ?? "");
    if (email === undefined) {
      send(res, 400, {
        error: "invalid_grant",
        error_description: "Token has been expired or revoked.",
      });
      return;
    }
    stats.tokenRefreshes++;
    const t = issue(email);
    send(res, 200, {
      access_token: t.accessToken,
      expires_in: ttlS,
      token_type: "Bearer",
      scope: "https://www.googleapis.com/auth/calendar.readonly",
    });
  };

  const server = await startLocalHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      if (failureRate > 0 && random() < failureRate) {
        stats.failuresInjected++;
        if (random() < 0.5)
          send(res, 503, googleError(503, "backendError", "Backend Error"));
        else
          send(
            res,
            429,
            googleError(429, "rateLimitExceeded", "Rate Limit Exceeded"),
          );
        return;
      }
      const m = /^\/calendar\/v3\/calendars\/([^/]+)\/events$/.exec(
        url.pathname,
      );
      if (req.method === "GET" && m !== null)
        list(req, res, url, decodeURIComponent(m[1] ?? ""));
      else if (req.method === "POST" && url.pathname === "/token")
        token(Buffer.concat(chunks).toString("utf8"), res);
      else
        send(
          res,
          404,
          googleError(
            404,
            "notFound",
            `no route ${req.method ?? ""} ${url.pathname}`,
          ),
        );
    });
  });
  const origin = server.baseUrl;

  const put = (
    email: string,
    item: Record<string, unknown> & { id: string },
  ): void => {
    const acc = account(email);
    acc.seq++;
    acc.events.set(item.id, { item, seq: acc.seq });
  };

  return {
    baseUrl: `${origin}/calendar/v3`,
    tokenUrl: `${origin}/token`,
    clientId,
    clientSecret,
    stats,
    addAccount(email, refreshToken) {
      if (!accounts.has(email))
        accounts.set(email, { email, events: new Map(), seq: 0 });
      refreshTokens.set(refreshToken, email);
      return issue(email);
    },
    putEvent(email, event) {
      const old = accounts.get(email)?.events.get(event.id)?.item;
      put(email, {
        kind: "calendar#event",
        status: "confirmed",
        created:
          typeof old?.["created"] === "string" ? old["created"] : iso(now()),
        ...event,
        updated: iso(now()),
        htmlLink: `https://www.google.com/calendar/event?eid=${Buffer.from(event.id).toString("base64url")}`,
      });
    },
    putRawItem: put,
    cancelEvent(email, eventId) {
      put(email, { kind: "calendar#event", id: eventId, status: "cancelled" });
    },
    expireAccessTokens() {
      for (const t of accessTokens.values())
        t.expiresMs = Math.min(t.expiresMs, now());
    },
    invalidateSyncTokens() {
      generation++;
    },
    revokeRefreshToken(refreshToken) {
      refreshTokens.delete(refreshToken);
    },
    setFailureRate(rate) {
      failureRate = rate;
    },
    close: () => server.close(),
  };
}
