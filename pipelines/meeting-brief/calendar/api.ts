// The parts of the Google Calendar API v3 the pipeline uses, typed after the reference:
// https://developers.google.com/calendar/api/v3/reference/events/list
// https://developers.google.com/calendar/api/guides/sync
// https://developers.google.com/identity/protocols/oauth2/web-server#offline (refresh tokens)

/** `start` / `end` of an event: `dateTime` (RFC 3339) for timed events, `date` for all-day ones. */
export interface EventDateTime {
  readonly date?: string;
  readonly dateTime?: string;
  readonly timeZone?: string;
}

/** An attendee of an event. */
export interface EventAttendeeResource {
  readonly email?: string;
  readonly displayName?: string;
  readonly organizer?: boolean;
  /** The attendee is the calendar's owner. */
  readonly self?: boolean;
  /** A room or other resource, not a person. */
  readonly resource?: boolean;
  readonly optional?: boolean;
  readonly responseStatus?:
    "needsAction" | "declined" | "tentative" | "accepted";
}

/** An Events resource (`kind: "calendar#event"`). Cancelled events in a sync carry only id and status. */
export interface EventResource {
  readonly kind?: "calendar#event";
  readonly id: string;
  readonly etag?: string;
  readonly status?: "confirmed" | "tentative" | "cancelled";
  readonly htmlLink?: string;
  readonly created?: string;
  readonly updated?: string;
  readonly summary?: string;
  readonly description?: string;
  readonly location?: string;
  readonly organizer?: {
    readonly email?: string;
    readonly displayName?: string;
    readonly self?: boolean;
  };
  readonly start?: EventDateTime;
  readonly end?: EventDateTime;
  readonly attendees?: readonly EventAttendeeResource[];
}

/** The response of events.list (`kind: "calendar#events"`). The last page has `nextSyncToken`. */
export interface EventsListResponse {
  readonly kind: "calendar#events";
  readonly etag?: string;
  readonly summary?: string;
  readonly updated?: string;
  readonly timeZone?: string;
  readonly items: readonly EventResource[];
  readonly nextPageToken?: string;
  readonly nextSyncToken?: string;
}

/**
 * Query parameters of events.list that we send. With `syncToken`, Google rejects `timeMin`,
 * `timeMax`, `orderBy`, `q` and `updatedMin` (400), so a sync sends either the window or the token.
 */
export interface EventsListParams {
  readonly timeMin?: string;
  readonly timeMax?: string;
  readonly singleEvents?: boolean;
  readonly orderBy?: "startTime" | "updated";
  readonly showDeleted?: boolean;
  readonly maxResults?: number;
  readonly pageToken?: string;
  readonly syncToken?: string;
}

/** Google's error body: `{ error: { code, message, errors: [{ domain, reason, message }] } }`. */
export interface GoogleErrorBody {
  readonly error: {
    readonly code: number;
    readonly message: string;
    readonly errors?: readonly {
      readonly domain?: string;
      readonly reason?: string;
      readonly message?: string;
    }[];
  };
}

/** The OAuth 2.0 token endpoint's answer to `grant_type=refresh_token`. */
export interface TokenResponse {
  readonly access_token: string;
  /** Seconds until the access token expires. */
  readonly expires_in: number;
  readonly token_type: "Bearer";
  readonly scope?: string;
}

/** The token endpoint's error body (RFC 6749 §5.2): `invalid_grant` when the refresh token is revoked. */
export interface OAuthErrorBody {
  readonly error: string;
  readonly error_description?: string;
}
