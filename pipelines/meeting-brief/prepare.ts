import { SluiceError } from "../../operators/sluice-error.js";
import { assembleBrief, renderBrief, sendAtFor } from "./brief.js";
import type { GoogleCalendarClient } from "./calendar/client.js";
import { syncCalendar } from "./calendar/sync.js";
import type { BriefDeadLetters } from "./dead-letters.js";
import { EMAIL, enrichParticipants } from "./enrich.js";
import type { EnrichmentClient } from "./enrichment/client.js";
import type { BriefRepo, RunSummary } from "./repo.js";
import type {
  Firing,
  RenderedBrief,
  SalesPerson,
  StoredEvent,
} from "./types.js";

/** The action of a brief in the action log and the send-at queue. */
export const BRIEF_ACTION = "brief-email";

/** The recipient id of a sales person in the action log. */
export const recipientOf = (salesPersonId: number): string =>
  `sales-person/${salesPersonId}`;

/** The queue item id of a brief: `${firingId}/brief-email/sales-person/<id>` (fanout's idempotencyKey). */
export const briefItemId = (firingId: string, salesPersonId: number): string =>
  `${firingId}/${BRIEF_ACTION}/${recipientOf(salesPersonId)}`;

/** The part of the fan-out send-at queue the 05:00 run needs: idempotent enqueue by id. */
export interface BriefQueue {
  enqueue(
    items: readonly {
      readonly id: string;
      readonly dueAt: number;
      readonly payload: RenderedBrief;
    }[],
  ): Promise<number>;
}

/** What {@link prepareBriefs} needs. */
export interface PrepareDeps {
  readonly job: string;
  readonly repo: BriefRepo;
  readonly calendar: GoogleCalendarClient;
  readonly enrichment: EnrichmentClient;
  readonly deadLetters: BriefDeadLetters;
  readonly queue: BriefQueue;
  readonly now: () => number;
  /** The sales team's IANA zone. */
  readonly timeZone: string;
  /** Local send time. Default 07:50. */
  readonly sendAt?: { readonly hour: number; readonly minute: number };
  /** Events starting in [firing, firing + windowMs) are briefed. Default 24 h. */
  readonly windowMs?: number;
  /** Queue a brief for a sales person without meetings. Default false. */
  readonly sendEmpty?: boolean;
  /** Calendars synced at once. Default 2. */
  readonly concurrency?: number;
  /** Enrichment API calls at once. Default 4. */
  readonly enrichConcurrency?: number;
  /** Participant data fresher than this is not fetched again. Default 30 days. */
  readonly freshForMs?: number;
}

const reasonOf = (error: unknown): string =>
  error instanceof Error ? error.message : String(error);
const codeOf = (error: unknown): SluiceError["code"] =>
  error instanceof SluiceError ? error.code : "PROCESS";

/**
 * One firing of the 05:00 job: for each sales person, an incremental sync of their calendar
 * (only events created or changed since the last run; the mirror supplies the rest of the
 * next 24 h), the participants enriched (database when fresher than 30 days, else the API,
 * then stored), the brief assembled and rendered, and queued for 07:50 in the team's zone.
 * A bad row (a sales person without email, an unparsable event, a calendar that fails, a
 * participant the API cannot describe) is a dead letter with its reason, never fatal. A rerun
 * of the same firing queues nothing twice (queue ids are the action log's keys).
 *
 * @example
 * ```ts
 * const summary = await prepareBriefs({ id: "meeting-brief@2026-11-23T05:00:00.000Z", scheduledMs }, deps);
 * ```
 */
export async function prepareBriefs(
  firing: Firing,
  deps: PrepareDeps,
): Promise<RunSummary> {
  const windowMs = deps.windowMs ?? 24 * 3_600_000;
  await deps.repo.startRun(firing, deps.now());
  let deadLetters = 0;
  const dead = async (
    stage: "validate" | "source" | "process",
    key: string,
    code: SluiceError["code"],
    reason: string,
  ): Promise<void> => {
    deadLetters++;
    await deps.deadLetters.write({ job: deps.job, stage, code, key, reason });
  };

  const people = await deps.repo.salesPeople();
  const ready: {
    person: SalesPerson & { email: string };
    events: StoredEvent[];
  }[] = [];
  let eventsFetched = 0;
  let fullResyncs = 0;
  let tokenRefreshes = 0;
  let next = 0;
  const syncOne = async (person: SalesPerson): Promise<void> => {
    const email = person.email?.trim() ?? "";
    if (!EMAIL.test(email)) {
      await dead(
        "validate",
        recipientOf(person.id),
        "VALIDATE",
        `sales person ${person.id} (${person.name}) has no valid email: ${JSON.stringify(person.email)}`,
      );
      return;
    }
    try {
      const r = await syncCalendar(person, {
        client: deps.calendar,
        repo: deps.repo,
        nowMs: deps.now(),
        timeMinMs: firing.scheduledMs,
        timeZone: deps.timeZone,
      });
      eventsFetched += r.fetched;
      if (r.full) fullResyncs++;
      tokenRefreshes += r.refreshes;
      for (const bad of r.invalid)
        await dead(
          "validate",
          `event/${person.id}/${bad.eventId}`,
          "VALIDATE",
          `calendar of sales person ${person.id}: event ${bad.eventId}: ${bad.reason}`,
        );
    } catch (error) {
      await dead(
        "source",
        recipientOf(person.id),
        codeOf(error),
        `calendar sync of sales person ${person.id} failed: ${reasonOf(error)}`,
      );
      return;
    }
    const events = await deps.repo.eventsStartingBetween(
      person.id,
      firing.scheduledMs,
      firing.scheduledMs + windowMs,
    );
    ready.push({ person: { ...person, email }, events });
  };
  await Promise.all(
    Array.from({ length: Math.max(1, deps.concurrency ?? 2) }, async () => {
      while (next < people.length) await syncOne(people[next++]!);
    }),
  );
  ready.sort((a, b) => a.person.id - b.person.id);

  const emails = new Set<string>();
  for (const r of ready)
    for (const e of r.events)
      for (const a of e.attendees)
        if (EMAIL.test(a.email)) emails.add(a.email);
        else
          await dead(
            "validate",
            `participant/${a.email}`,
            "VALIDATE",
            `event ${e.eventId}: attendee email ${JSON.stringify(a.email)} is not an address`,
          );
  const enriched = await enrichParticipants([...emails], {
    repo: deps.repo,
    client: deps.enrichment,
    deadLetters: deps.deadLetters,
    job: deps.job,
    nowMs: deps.now(),
    ...(deps.freshForMs === undefined ? {} : { freshForMs: deps.freshForMs }),
    ...(deps.enrichConcurrency === undefined
      ? {}
      : { concurrency: deps.enrichConcurrency }),
  });
  deadLetters += enriched.failed;

  const sendAtMs = sendAtFor(
    firing.scheduledMs,
    deps.timeZone,
    deps.sendAt ?? { hour: 7, minute: 50 },
  );
  const items: { id: string; dueAt: number; payload: RenderedBrief }[] = [];
  let eventsInWindow = 0;
  for (const { person, events } of ready) {
    eventsInWindow += events.length;
    if (events.length === 0 && deps.sendEmpty !== true) continue;
    try {
      const brief = renderBrief(
        assembleBrief(firing, person, events, enriched.byEmail, deps.timeZone),
        sendAtMs,
      );
      items.push({
        id: briefItemId(firing.id, person.id),
        dueAt: sendAtMs,
        payload: brief,
      });
    } catch (error) {
      await dead(
        "process",
        recipientOf(person.id),
        codeOf(error),
        `rendering the brief of sales person ${person.id} failed: ${reasonOf(error)}`,
      );
    }
  }
  await deps.queue.enqueue(items);
  const summary: RunSummary = {
    salesPeople: people.length,
    calendarsSynced: ready.length,
    eventsFetched,
    eventsInWindow,
    fullResyncs,
    tokenRefreshes,
    participantsFromDb: enriched.fromDb,
    participantsFromApi: enriched.fromApi,
    participantsUnknown: enriched.unknown,
    briefsQueued: items.length,
    deadLetters,
  };
  await deps.repo.finishRun(firing.id, deps.now(), summary);
  return summary;
}
