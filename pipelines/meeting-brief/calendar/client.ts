import { z } from "zod";
import {
  callJsonRetrying,
  HttpApiError,
  retryOptions,
  type FetchLike,
  type JsonApi,
  type RetryOptions,
} from "../http.js";
import type { EventsListParams, EventResource } from "./api.js";

/** Options of {@link GoogleCalendarClient}. */
export interface CalendarClientOptions {
  /** Default `https://www.googleapis.com/calendar/v3`. */
  readonly baseUrl?: string;
  /** Default `https://oauth2.googleapis.com/token`. */
  readonly tokenUrl?: string;
  /** The OAuth client the sales people consented to. */
  readonly clientId: string;
  /** Kept inside the client, never logged. */
  readonly clientSecret: string;
  /** Per request. Default 10 000. */
  readonly timeoutMs?: number;
  /** Default `{ maxAttempts: 5, baseDelayMs: 200, maxDelayMs: 5 000 }`. */
  readonly retry?: Partial<RetryOptions>;
  readonly fetch?: FetchLike;
}

const eventSchema = z.object({ id: z.string().min(1) }).passthrough();
const listSchema = z
  .object({
    kind: z.literal("calendar#events"),
    items: z.array(z.unknown()).default([]),
    nextPageToken: z.string().optional(),
    nextSyncToken: z.string().optional(),
  })
  .passthrough();
const tokenSchema = z.object({
  access_token: z.string().min(1),
  expires_in: z.number().positive(),
  token_type: z.string(),
});

function googleReason(body: unknown): {
  reason: string | undefined;
  message: string;
} {
  const e = (body as { error?: unknown } | undefined)?.error;
  if (typeof e === "string") {
    const d = (body as { error_description?: unknown }).error_description;
    return { reason: e, message: typeof d === "string" ? `${e}: ${d}` : e };
  }
  if (typeof e === "object" && e !== null) {
    const g = e as { message?: unknown; errors?: { reason?: unknown }[] };
    const reason = g.errors?.[0]?.reason;
    return {
      reason: typeof reason === "string" ? reason : undefined,
      message: typeof g.message === "string" ? g.message : "error",
    };
  }
  return {
    reason: undefined,
    message: typeof body === "string" ? body.slice(0, 200) : "error",
  };
}

/** One page of events.list: the valid events, and the items that failed to parse (bad rows). */
export interface EventsPage {
  readonly items: readonly EventResource[];
  readonly invalid: readonly {
    readonly item: unknown;
    readonly reason: string;
  }[];
  readonly nextPageToken?: string;
  readonly nextSyncToken?: string;
}

/**
 * A typed client of the two Google endpoints the pipeline calls: Calendar v3 `events.list`
 * (`GET /calendars/{calendarId}/events`) and the OAuth 2.0 token endpoint
 * (`POST /token`, `grant_type=refresh_token`). 429 and 5xx are retried with backoff;
 * 401 and 410 are returned as {@link HttpApiError}s for the caller to act on (refresh the
 * token; drop the sync token and sync in full).
 *
 * @example
 * ```ts
 * const calendar = new GoogleCalendarClient({ clientId, clientSecret: secret.reveal() });
 * const page = await calendar.listEvents(accessToken, "primary", { syncToken });
 * ```
 */
export class GoogleCalendarClient {
  readonly #baseUrl: string;
  readonly #tokenUrl: string;
  readonly #clientId: string;
  readonly #clientSecret: string;
  readonly #api: JsonApi;

  constructor(options: CalendarClientOptions) {
    this.#baseUrl = (
      options.baseUrl ?? "https://www.googleapis.com/calendar/v3"
    ).replace(/\/$/, "");
    this.#tokenUrl = options.tokenUrl ?? "https://oauth2.googleapis.com/token";
    if (options.clientId === "")
      throw new TypeError("calendar.clientId must not be empty");
    this.#clientId = options.clientId;
    this.#clientSecret = options.clientSecret;
    this.#api = {
      fetch: options.fetch ?? ((input, init) => fetch(input, init)),
      timeoutMs: options.timeoutMs ?? 10_000,
      retry: retryOptions(options.retry),
      errorOf: googleReason,
    };
  }

  /** Prints without the client secret. */
  toJSON(): object {
    return {
      baseUrl: this.#baseUrl,
      tokenUrl: this.#tokenUrl,
      clientId: this.#clientId,
    };
  }

  /** One page of `events.list`. */
  async listEvents(
    accessToken: string,
    calendarId: string,
    params: EventsListParams,
  ): Promise<EventsPage> {
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(params))
      if (v !== undefined) query.set(k, String(v));
    const url = `${this.#baseUrl}/calendars/${encodeURIComponent(calendarId)}/events?${query.toString()}`;
    const { status, body } = await callJsonRetrying(
      this.#api,
      "calendar events.list",
      url,
      {
        method: "GET",
        headers: {
          authorization: `Bearer ${accessToken}`,
          accept: "application/json",
        },
      },
    );
    const parsed = listSchema.safeParse(body);
    if (!parsed.success)
      throw new HttpApiError(
        "calendar events.list",
        status,
        "badResponse",
        `unexpected response: ${parsed.error.message}`,
      );
    const items: EventResource[] = [];
    const invalid: { item: unknown; reason: string }[] = [];
    for (const item of parsed.data.items) {
      const e = eventSchema.safeParse(item);
      if (e.success) items.push(e.data);
      else invalid.push({ item, reason: "event without an id" });
    }
    return {
      items,
      invalid,
      ...(parsed.data.nextPageToken === undefined
        ? {}
        : { nextPageToken: parsed.data.nextPageToken }),
      ...(parsed.data.nextSyncToken === undefined
        ? {}
        : { nextSyncToken: parsed.data.nextSyncToken }),
    };
  }

  /** Exchanges a refresh token for a new access token. `invalid_grant` (revoked) is not retried. */
  async refreshAccessToken(
    refreshToken: string,
  ): Promise<{ accessToken: string; expiresInS: number }> {
    const form = new URLSearchParams({
      grant_type: "refresh_token",
      refresh_token: refreshToken,
      client_id: this.#clientId,
      client_secret: this.#clientSecret,
    });
    const { status, body } = await callJsonRetrying(
      this.#api,
      "oauth token",
      this.#tokenUrl,
      {
        method: "POST",
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          accept: "application/json",
        },
        body: form.toString(),
      },
    );
    const t = tokenSchema.safeParse(body);
    if (!t.success)
      throw new HttpApiError(
        "oauth token",
        status,
        "badResponse",
        `unexpected response: ${t.error.message}`,
      );
    return { accessToken: t.data.access_token, expiresInS: t.data.expires_in };
  }
}
