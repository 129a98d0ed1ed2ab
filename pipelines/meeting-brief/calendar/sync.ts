import type { BriefRepo, EventChanges } from "../repo.js";
import type { SalesPerson, StoredEvent } from "../types.js";
import { HttpApiError } from "../http.js";
import type { GoogleCalendarClient } from "./client.js";
import { parseEvent } from "./parse-event.js";

/** A token this close to expiry is refreshed before the first call. */
const EXPIRY_MARGIN_MS = 60_000;

/** What one calendar's sync did. */
export interface CalendarSyncResult {
  /** Items events.list returned (all pages, cancellations included). */
  readonly fetched: number;
  /** True when it synced in full (first run, or the sync token was stale: 410). */
  readonly full: boolean;
  /** How many times the access token was refreshed (before the call, or after a 401). */
  readonly refreshes: number;
  /** Items that could not be used, with why (for the dead letters). */
  readonly invalid: readonly {
    readonly eventId: string;
    readonly reason: string;
  }[];
}

/**
 * Brings one sales person's event mirror up to date with Google Calendar: an incremental
 * events.list with the stored sync token (only events created, changed or cancelled since the
 * last run), or a full one from `timeMinMs` when there is no token or Google answers 410 Gone.
 * The access token is refreshed when it is about to expire and once after a 401; a refreshed
 * token is stored at once. The changes and the new sync token are stored in one step, after
 * the last page, so a failure mid-way leaves the previous token in place and the next run
 * fetches the same changes again.
 *
 * @example
 * ```ts
 * const r = await syncCalendar(person, { client, repo, nowMs, timeMinMs: firing.scheduledMs, timeZone });
 * ```
 */
export async function syncCalendar(
  person: SalesPerson,
  deps: {
    readonly client: GoogleCalendarClient;
    readonly repo: BriefRepo;
    readonly nowMs: number;
    /** Lower bound of a full sync (events ending before it are not fetched). */
    readonly timeMinMs: number;
    readonly timeZone: string;
    readonly pageSize?: number;
  },
): Promise<CalendarSyncResult> {
  let accessToken = person.accessToken;
  let refreshes = 0;
  const refresh = async (): Promise<void> => {
    const t = await deps.client.refreshAccessToken(person.refreshToken);
    accessToken = t.accessToken;
    refreshes++;
    await deps.repo.saveAccessToken(
      person.id,
      t.accessToken,
      deps.nowMs + t.expiresInS * 1000,
    );
  };
  if (person.expiresMs <= deps.nowMs + EXPIRY_MARGIN_MS) await refresh();

  let syncToken = await deps.repo.syncToken(person.id);
  for (let round = 0; ; round++) {
    const full = syncToken === undefined;
    const upserts = new Map<string, StoredEvent>();
    const deletes = new Set<string>();
    const invalid: { eventId: string; reason: string }[] = [];
    let fetched = 0;
    let pageToken: string | undefined;
    let unauthorizedRetried = false;
    let nextSyncToken: string | undefined;
    try {
      for (;;) {
        const base = full
          ? {
              timeMin: new Date(deps.timeMinMs).toISOString(),
              singleEvents: true,
            }
          : { syncToken: syncToken!, singleEvents: true };
        let page;
        try {
          page = await deps.client.listEvents(accessToken, "primary", {
            ...base,
            maxResults: deps.pageSize ?? 250,
            ...(pageToken === undefined ? {} : { pageToken }),
          });
        } catch (error) {
          if (
            error instanceof HttpApiError &&
            error.status === 401 &&
            !unauthorizedRetried
          ) {
            unauthorizedRetried = true;
            await refresh();
            continue;
          }
          throw error;
        }
        unauthorizedRetried = false;
        fetched += page.items.length + page.invalid.length;
        for (const bad of page.invalid)
          invalid.push({ eventId: "(no id)", reason: bad.reason });
        for (const item of page.items) {
          const p = parseEvent(item, {
            salesPersonId: person.id,
            ownerEmail: person.email,
            timeZone: deps.timeZone,
          });
          if (p.kind === "event") {
            upserts.set(p.event.eventId, p.event);
            deletes.delete(p.event.eventId);
          } else {
            upserts.delete(p.eventId);
            // An unusable event is dropped from the mirror too: a stale copy must not be briefed.
            deletes.add(p.eventId);
            if (p.kind === "invalid")
              invalid.push({ eventId: p.eventId, reason: p.reason });
          }
        }
        if (page.nextPageToken !== undefined) {
          pageToken = page.nextPageToken;
          continue;
        }
        nextSyncToken = page.nextSyncToken;
        break;
      }
    } catch (error) {
      if (
        error instanceof HttpApiError &&
        error.status === 410 &&
        !full &&
        round === 0
      ) {
        syncToken = undefined; // stale token: start over with a full sync
        continue;
      }
      throw error;
    }
    if (nextSyncToken === undefined)
      throw new HttpApiError(
        "calendar events.list",
        200,
        "noSyncToken",
        "last page carried no nextSyncToken",
      );
    const changes: EventChanges = {
      salesPersonId: person.id,
      full,
      upserts: [...upserts.values()],
      deletes: [...deletes],
      nextSyncToken,
    };
    await deps.repo.applyEventChanges(changes);
    return { fetched, full, refreshes, invalid };
  }
}
