import type {
  Company,
  EnrichedPerson,
  Firing,
  Participant,
  SalesPerson,
  StoredEvent,
} from "./types.js";

/** The participant a repo stores for `p`: its row id, its stored company, enriched at `nowMs`. */
export function storedParticipant(
  id: number,
  p: EnrichedPerson,
  company: Company | null,
  nowMs: number,
): Participant {
  return {
    id,
    email: p.email,
    firstName: p.firstName,
    lastName: p.lastName,
    avatar: p.avatar,
    title: p.title,
    linkedinUrl: p.linkedinUrl,
    company,
    updatedMs: nowMs,
  };
}

/** What one run of the 05:00 job did, stored with its firing. */
export interface RunSummary {
  readonly salesPeople: number;
  /** Calendars synced without error. */
  readonly calendarsSynced: number;
  readonly eventsFetched: number;
  readonly eventsInWindow: number;
  readonly fullResyncs: number;
  readonly tokenRefreshes: number;
  readonly participantsFromDb: number;
  readonly participantsFromApi: number;
  readonly participantsUnknown: number;
  readonly briefsQueued: number;
  readonly deadLetters: number;
}

/** What the retention deleted. */
export interface RetentionResult {
  readonly participants: number;
  readonly companies: number;
  readonly events: number;
}

/** The changes of one events.list sync, applied atomically with the new sync token. */
export interface EventChanges {
  readonly salesPersonId: number;
  /** A full sync replaces the mirror (410 Gone, or the first run). */
  readonly full: boolean;
  readonly upserts: readonly StoredEvent[];
  /** Ids of cancelled (deleted) events. */
  readonly deletes: readonly string[];
  readonly nextSyncToken: string;
}

/**
 * The meeting-brief tables (migrations/): `sales_personnel`, `companies`, `participants`,
 * `calendar_sync`, `calendar_events`, `brief_runs`. One interface, two adapters
 * ({@link memoryBriefRepo}, `postgresBriefRepo`), one conformance suite (repo.conformance.ts).
 */
export interface BriefRepo {
  /** Every sales person, by id. */
  salesPeople(): Promise<SalesPerson[]>;
  /** Adds a sales person (seeding, tests); returns the id. */
  addSalesPerson(p: Omit<SalesPerson, "id">): Promise<number>;
  /** Stores a refreshed access token. */
  saveAccessToken(
    id: number,
    accessToken: string,
    expiresMs: number,
  ): Promise<void>;
  /** The calendar's last nextSyncToken, if any. */
  syncToken(salesPersonId: number): Promise<string | undefined>;
  /** Applies one sync's changes and its new token in one step. */
  applyEventChanges(changes: EventChanges): Promise<void>;
  /** Mirrored events starting in [fromMs, toMs), by start. */
  eventsStartingBetween(
    salesPersonId: number,
    fromMs: number,
    toMs: number,
  ): Promise<StoredEvent[]>;
  /** Stored participants of these emails (lower-case), with their companies. */
  participantsByEmail(
    emails: readonly string[],
  ): Promise<Map<string, Participant>>;
  /** Inserts or replaces a participant (and upserts its company by domain); updated_at = nowMs. */
  saveParticipant(p: EnrichedPerson, nowMs: number): Promise<Participant>;
  /**
   * Deletes participants enriched at or before `cutoffMs`, then companies no participant
   * refers to any more, and mirrored events (their attendee lists) that ended at or before
   * `cutoffMs`. Returns how many rows of each went.
   */
  deleteParticipantsEnrichedBefore(cutoffMs: number): Promise<RetentionResult>;
  /** Records that a firing started (idempotent: a rerun keeps the first start). */
  startRun(firing: Firing, nowMs: number): Promise<void>;
  /** Records what a firing did. */
  finishRun(
    firingId: string,
    nowMs: number,
    summary: RunSummary,
  ): Promise<void>;
  /** A firing's record, if it ran. */
  run(firingId: string): Promise<
    | {
        startedMs: number;
        finishedMs: number | null;
        summary: RunSummary | null;
      }
    | undefined
  >;
}
