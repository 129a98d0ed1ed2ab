// The meeting-brief domain (seeds/001): sales people, the events of their calendars, the
// participants and companies the enrichment API describes, and the brief sent before the day.

/** A row of `sales_personnel`: who gets a brief, and the OAuth tokens for their calendar. */
export interface SalesPerson {
  readonly id: number;
  readonly name: string;
  /** Where the brief goes; null is a bad row (dead-lettered, never fatal). */
  readonly email: string | null;
  readonly accessToken: string;
  readonly refreshToken: string;
  /** When `accessToken` expires, epoch milliseconds (the seed's `expires`). */
  readonly expiresMs: number;
}

/** One attendee of a mirrored event. */
export interface EventAttendee {
  readonly email: string;
  readonly displayName?: string;
  readonly responseStatus?: string;
}

/** A calendar event as the pipeline keeps it (`calendar_events`), parsed and validated. */
export interface StoredEvent {
  readonly salesPersonId: number;
  readonly eventId: string;
  readonly summary: string;
  readonly startMs: number;
  readonly endMs: number;
  /** True for an all-day event (`start.date`). */
  readonly allDay: boolean;
  readonly location?: string;
  readonly htmlLink?: string;
  /** The event's `updated` time, epoch ms: the sync uses it to keep the newest copy. */
  readonly updatedMs: number;
  readonly attendees: readonly EventAttendee[];
}

/** A row of `companies`. */
export interface Company {
  readonly id: number;
  readonly name: string;
  readonly domain: string | null;
  readonly linkedinUrl: string | null;
  readonly employees: number | null;
}

/** A row of `participants` with its company. `updatedMs` is when it was last enriched. */
export interface Participant {
  readonly id: number;
  readonly email: string;
  readonly firstName: string | null;
  readonly lastName: string | null;
  readonly avatar: string | null;
  readonly title: string | null;
  readonly linkedinUrl: string | null;
  readonly company: Company | null;
  readonly updatedMs: number;
}

/** What the enrichment API says about one email, before it is stored. */
export interface EnrichedPerson {
  readonly email: string;
  readonly firstName: string | null;
  readonly lastName: string | null;
  readonly avatar: string | null;
  readonly title: string | null;
  readonly linkedinUrl: string | null;
  readonly company: {
    readonly name: string;
    readonly domain: string | null;
    readonly linkedinUrl: string | null;
    readonly employees: number | null;
  } | null;
}

/** One scheduled run of the 05:00 job. */
export interface Firing {
  /** Deterministic id: job name + scheduled instant (the schedule source's firing id). */
  readonly id: string;
  /** The scheduled instant, epoch ms (not the moment it actually ran). */
  readonly scheduledMs: number;
}

/** The JSON the email template renders (one per sales person and firing). */
export interface BriefData {
  readonly firingId: string;
  readonly salesPerson: {
    readonly id: number;
    readonly name: string;
    readonly email: string;
  };
  /** The day of the brief in the team's zone, e.g. "Monday 23 November 2026". */
  readonly day: string;
  readonly timeZone: string;
  readonly meetings: readonly BriefMeeting[];
}

/** One meeting in a brief. */
export interface BriefMeeting {
  readonly eventId: string;
  readonly summary: string;
  /** Local "09:30–10:00", or "all day". */
  readonly when: string;
  readonly location: string | null;
  readonly link: string | null;
  readonly participants: readonly BriefParticipant[];
}

/** One participant in a brief; `known: false` when the enrichment API had nothing. */
export interface BriefParticipant {
  readonly email: string;
  readonly name: string;
  readonly title: string | null;
  readonly avatar: string | null;
  readonly linkedinUrl: string | null;
  readonly company: {
    readonly name: string;
    readonly employees: number | null;
    readonly linkedinUrl: string | null;
  } | null;
  readonly known: boolean;
}

/** A rendered brief, ready for the send-at queue. */
export interface RenderedBrief {
  readonly firingId: string;
  readonly salesPersonId: number;
  readonly to: string;
  readonly subject: string;
  readonly html: string;
  readonly text: string;
  /** When it should go out (07:50 in the team's zone), epoch ms. */
  readonly sendAtMs: number;
}
