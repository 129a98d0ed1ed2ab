import { DateTime } from "luxon";
import type { EventAttendee, StoredEvent } from "../types.js";
import type { EventDateTime, EventResource } from "./api.js";

/** The outcome of {@link parseEvent}: the stored form, a cancellation, or why it is unusable. */
export type ParsedEvent =
  | { readonly kind: "event"; readonly event: StoredEvent }
  | { readonly kind: "cancelled"; readonly eventId: string }
  | {
      readonly kind: "invalid";
      readonly eventId: string;
      readonly reason: string;
    };

function instant(t: EventDateTime | undefined, zone: string): number | string {
  if (t === undefined) return "missing";
  if (typeof t.dateTime === "string") {
    const d = DateTime.fromISO(t.dateTime, { setZone: true });
    return d.isValid
      ? d.toMillis()
      : `unparsable dateTime ${JSON.stringify(t.dateTime)}`;
  }
  if (typeof t.date === "string") {
    // All-day events start at midnight of their date in the calendar's (else the team's) zone.
    const d = DateTime.fromISO(t.date, { zone: t.timeZone ?? zone });
    return d.isValid
      ? d.toMillis()
      : `unparsable date ${JSON.stringify(t.date)}`;
  }
  return "neither dateTime nor date";
}

/**
 * Turns one events.list item into what the pipeline stores. The owner (`self`, or the sales
 * person's own address) and rooms (`resource`) are not participants; attendees without an
 * email are left out. An item without a usable start or end is `invalid` (a dead letter).
 *
 * @example
 * ```ts
 * parseEvent(item, { salesPersonId: 1, ownerEmail: "ana@sales.example", timeZone: "Europe/Lisbon" });
 * ```
 */
export function parseEvent(
  item: EventResource,
  o: {
    readonly salesPersonId: number;
    readonly ownerEmail: string | null;
    readonly timeZone: string;
  },
): ParsedEvent {
  if (item.status === "cancelled")
    return { kind: "cancelled", eventId: item.id };
  const start = instant(item.start, o.timeZone);
  const end = instant(item.end, o.timeZone);
  if (typeof start === "string")
    return { kind: "invalid", eventId: item.id, reason: `start: ${start}` };
  if (typeof end === "string")
    return { kind: "invalid", eventId: item.id, reason: `end: ${end}` };
  if (end < start)
    return { kind: "invalid", eventId: item.id, reason: "end is before start" };
  const updated =
    item.updated === undefined ? Number.NaN : Date.parse(item.updated);
  const owner = o.ownerEmail?.toLowerCase();
  const attendees: EventAttendee[] = [];
  for (const a of item.attendees ?? []) {
    if (a.self === true || a.resource === true || typeof a.email !== "string")
      continue;
    const email = a.email.trim().toLowerCase();
    if (email === owner) continue;
    attendees.push({
      email,
      ...(a.displayName === undefined ? {} : { displayName: a.displayName }),
      ...(a.responseStatus === undefined
        ? {}
        : { responseStatus: a.responseStatus }),
    });
  }
  return {
    kind: "event",
    event: {
      salesPersonId: o.salesPersonId,
      eventId: item.id,
      summary: item.summary ?? "(no title)",
      startMs: start,
      endMs: end,
      allDay: item.start?.dateTime === undefined,
      ...(item.location === undefined ? {} : { location: item.location }),
      ...(item.htmlLink === undefined ? {} : { htmlLink: item.htmlLink }),
      updatedMs: Number.isNaN(updated) ? 0 : updated,
      attendees,
    },
  };
}
