import { storedParticipant, type BriefRepo, type RunSummary } from "./repo.js";
import type {
  Company,
  Participant,
  SalesPerson,
  StoredEvent,
} from "./types.js";

/**
 * The embedded {@link BriefRepo}: plain maps, for `sluice demo meeting-brief` and unit tests.
 *
 * @example
 * ```ts
 * const repo = memoryBriefRepo();
 * await repo.addSalesPerson({ name: "Ana", email: "ana@sales.example", accessToken: "a", refreshToken: "r", expiresMs: 0 });
 * ```
 */
export function memoryBriefRepo(): BriefRepo {
  const people = new Map<number, SalesPerson>();
  const tokens = new Map<number, string>();
  const events = new Map<number, Map<string, StoredEvent>>();
  const companies = new Map<number, Company>();
  const participants = new Map<string, Participant>();
  const runs = new Map<
    string,
    { startedMs: number; finishedMs: number | null; summary: RunSummary | null }
  >();
  let nextPerson = 1;
  let nextCompany = 1;
  let nextParticipant = 1;
  const participantIds = new Map<string, number>();

  return {
    salesPeople: () =>
      Promise.resolve([...people.values()].sort((a, b) => a.id - b.id)),
    addSalesPerson(p) {
      const id = nextPerson++;
      people.set(id, { ...p, id });
      return Promise.resolve(id);
    },
    saveAccessToken(id, accessToken, expiresMs) {
      const p = people.get(id);
      if (p !== undefined) people.set(id, { ...p, accessToken, expiresMs });
      return Promise.resolve();
    },
    syncToken: (id) => Promise.resolve(tokens.get(id)),
    applyEventChanges(c) {
      let mirror = events.get(c.salesPersonId);
      if (mirror === undefined || c.full) {
        mirror = new Map();
        events.set(c.salesPersonId, mirror);
      }
      for (const id of c.deletes) mirror.delete(id);
      for (const e of c.upserts) {
        const old = mirror.get(e.eventId);
        if (old === undefined || old.updatedMs <= e.updatedMs)
          mirror.set(e.eventId, e);
      }
      tokens.set(c.salesPersonId, c.nextSyncToken);
      return Promise.resolve();
    },
    eventsStartingBetween(id, fromMs, toMs) {
      const all = [...(events.get(id)?.values() ?? [])];
      return Promise.resolve(
        all
          .filter((e) => e.startMs >= fromMs && e.startMs < toMs)
          .sort(
            (a, b) =>
              a.startMs - b.startMs || a.eventId.localeCompare(b.eventId),
          ),
      );
    },
    participantsByEmail(emails) {
      const out = new Map<string, Participant>();
      for (const e of emails) {
        const p = participants.get(e);
        if (p !== undefined) out.set(e, p);
      }
      return Promise.resolve(out);
    },
    saveParticipant(p, nowMs) {
      let company: Company | null = null;
      if (p.company !== null) {
        const c = p.company;
        const existing =
          c.domain === null
            ? undefined
            : [...companies.values()].find((x) => x.domain === c.domain);
        const id = existing?.id ?? nextCompany++;
        company = {
          id,
          name: c.name,
          domain: c.domain,
          linkedinUrl: c.linkedinUrl,
          employees: c.employees,
        };
        companies.set(id, company);
      }
      let id = participantIds.get(p.email);
      if (id === undefined) {
        id = nextParticipant++;
        participantIds.set(p.email, id);
      }
      const row = storedParticipant(id, p, company, nowMs);
      participants.set(p.email, row);
      return Promise.resolve(row);
    },
    deleteParticipantsEnrichedBefore(cutoffMs) {
      let gone = 0;
      for (const [email, p] of participants)
        if (p.updatedMs <= cutoffMs) {
          participants.delete(email);
          participantIds.delete(email);
          gone++;
        }
      const used = new Set(
        [...participants.values()].map((p) => p.company?.id),
      );
      let companiesGone = 0;
      for (const id of [...companies.keys()])
        if (!used.has(id)) {
          companies.delete(id);
          companiesGone++;
        }
      let eventsGone = 0;
      for (const mirror of events.values())
        for (const [id, e] of [...mirror])
          if (e.endMs <= cutoffMs) {
            mirror.delete(id);
            eventsGone++;
          }
      return Promise.resolve({
        participants: gone,
        companies: companiesGone,
        events: eventsGone,
      });
    },
    startRun(firing, nowMs) {
      if (!runs.has(firing.id))
        runs.set(firing.id, {
          startedMs: nowMs,
          finishedMs: null,
          summary: null,
        });
      return Promise.resolve();
    },
    finishRun(firingId, nowMs, summary) {
      const r = runs.get(firingId);
      runs.set(firingId, {
        startedMs: r?.startedMs ?? nowMs,
        finishedMs: nowMs,
        summary,
      });
      return Promise.resolve();
    },
    run: (firingId) => Promise.resolve(runs.get(firingId)),
  };
}
