// One suite for every BriefRepo adapter (STYLE.md habit 11): memory in unit tests,
// PostgreSQL in the integration tests.
import { describe, expect, it } from "vitest";
import { FRESH_FOR_MS } from "../enrich.js";
import { runRetention } from "../retention.js";
import type { BriefRepo } from "../repo.js";
import type { EnrichedPerson, StoredEvent } from "../types.js";

const T0 = Date.parse("2026-11-23T10:00:00.000Z");

const person = (
  email: string,
  company: string | null = "acme.example",
): EnrichedPerson => ({
  email,
  firstName: "Ana",
  lastName: "Lima",
  avatar: null,
  title: "CTO",
  linkedinUrl: null,
  company:
    company === null
      ? null
      : {
          name: company.split(".")[0]!,
          domain: company,
          linkedinUrl: null,
          employees: 120,
        },
});

const event = (
  salesPersonId: number,
  eventId: string,
  startMs: number,
  updatedMs = T0,
): StoredEvent => ({
  salesPersonId,
  eventId,
  summary: `Meeting ${eventId}`,
  startMs,
  endMs: startMs + 1_800_000,
  allDay: false,
  updatedMs,
  attendees: [{ email: "x@acme.example" }],
});

/** Sales person "A" with an email and tokens; resolves with the id. */
const addRep = (repo: BriefRepo, expiresMs = T0): Promise<number> =>
  repo.addSalesPerson({
    name: "A",
    email: "a@sales.example",
    accessToken: "t",
    refreshToken: "r",
    expiresMs,
  });

/** Ids of `id`'s events starting in [from, to). */
const eventIds = async (
  repo: BriefRepo,
  id: number,
  from: number,
  to: number,
): Promise<string[]> =>
  (await repo.eventsStartingBetween(id, from, to)).map((e) => e.eventId);

/** Runs the conformance suite against a fresh repo from `make` for each test. */
export function describeBriefRepo(
  name: string,
  make: () => Promise<BriefRepo>,
): void {
  describe(`BriefRepo conformance: ${name}`, () => {
    it("stores sales people, including one without an email, and their refreshed tokens", async () => {
      const repo = await make();
      const a = await repo.addSalesPerson({
        name: "A",
        email: "a@sales.example",
        accessToken: "t1",
        refreshToken: "r1",
        expiresMs: T0,
      });
      const b = await repo.addSalesPerson({
        name: "B",
        email: null,
        accessToken: "t2",
        refreshToken: "r2",
        expiresMs: T0,
      });
      await repo.saveAccessToken(a, "t1-new", T0 + 3_600_000);
      const people = await repo.salesPeople();
      expect(
        people.map((p) => [p.id, p.email, p.accessToken, p.expiresMs]),
      ).toEqual([
        [a, "a@sales.example", "t1-new", T0 + 3_600_000],
        [b, null, "t2", T0],
      ]);
    });

    it("applies event changes with their sync token: full replaces, incremental merges, an older copy never wins", async () => {
      const repo = await make();
      const id = await addRep(repo);
      expect(await repo.syncToken(id)).toBeUndefined();
      await repo.applyEventChanges({
        salesPersonId: id,
        full: true,
        upserts: [event(id, "e1", T0 + 1), event(id, "e2", T0 + 2)],
        deletes: [],
        nextSyncToken: "s1",
      });
      await repo.applyEventChanges({
        salesPersonId: id,
        full: false,
        upserts: [
          event(id, "e3", T0 + 3),
          { ...event(id, "e1", T0 + 9, T0 - 1), summary: "older copy" },
        ],
        deletes: ["e2"],
        nextSyncToken: "s2",
      });
      expect(await repo.syncToken(id)).toBe("s2");
      const got = await repo.eventsStartingBetween(id, T0, T0 + 10);
      expect(got.map((e) => [e.eventId, e.summary])).toEqual([
        ["e1", "Meeting e1"],
        ["e3", "Meeting e3"],
      ]);
      expect(got[0]).toEqual(event(id, "e1", T0 + 1));
      await repo.applyEventChanges({
        salesPersonId: id,
        full: true,
        upserts: [event(id, "e4", T0 + 4)],
        deletes: [],
        nextSyncToken: "s3",
      });
      expect(await eventIds(repo, id, T0, T0 + 10)).toEqual(["e4"]);
    });

    it("returns events starting in [from, to) only", async () => {
      const repo = await make();
      const id = await addRep(repo);
      await repo.applyEventChanges({
        salesPersonId: id,
        full: true,
        upserts: [
          event(id, "before", T0 - 1),
          event(id, "at", T0),
          event(id, "end", T0 + 1_000),
        ],
        deletes: [],
        nextSyncToken: "s",
      });
      expect(await eventIds(repo, id, T0, T0 + 1_000)).toEqual(["at"]);
    });

    it("upserts participants by email and companies by domain", async () => {
      const repo = await make();
      const a = await repo.saveParticipant(person("a@acme.example"), T0);
      const b = await repo.saveParticipant(person("b@acme.example"), T0);
      expect(a.company?.id).toBe(b.company?.id);
      const again = await repo.saveParticipant(
        { ...person("a@acme.example"), title: "CEO" },
        T0 + 5,
      );
      expect(again.id).toBe(a.id);
      const rows = await repo.participantsByEmail([
        "a@acme.example",
        "b@acme.example",
        "c@acme.example",
      ]);
      expect([...rows.keys()].sort()).toEqual([
        "a@acme.example",
        "b@acme.example",
      ]);
      expect(rows.get("a@acme.example")).toMatchObject({
        title: "CEO",
        updatedMs: T0 + 5,
        company: { name: "acme", employees: 120 },
      });
    });

    it("retention deletes participants 30 days old or older, keeps younger ones, and drops orphaned companies", async () => {
      const repo = await make();
      const now = T0;
      await repo.saveParticipant(
        person("exactly30@old.example", "old.example"),
        now - FRESH_FOR_MS,
      );
      await repo.saveParticipant(
        person("older@acme.example"),
        now - FRESH_FOR_MS - 86_400_000,
      );
      await repo.saveParticipant(
        person("young@acme.example"),
        now - FRESH_FOR_MS + 1_000,
      );
      await repo.saveParticipant(
        person("fresh@new.example", "new.example"),
        now,
      );
      const id = await addRep(repo, now);
      const endsAt = (ms: number) => ({
        ...event(id, `ends-${ms}`, ms - 1_800_000),
        endMs: ms,
      });
      await repo.applyEventChanges({
        salesPersonId: id,
        full: true,
        upserts: [
          endsAt(now - FRESH_FOR_MS),
          endsAt(now - FRESH_FOR_MS + 1_000),
        ],
        deletes: [],
        nextSyncToken: "s",
      });
      const deleted = await runRetention(repo, now);
      expect(deleted).toEqual({ participants: 2, companies: 1, events: 1 });
      expect(
        (await repo.eventsStartingBetween(id, 0, now)).map((e) => e.endMs),
      ).toEqual([now - FRESH_FOR_MS + 1_000]);
      const left = await repo.participantsByEmail([
        "exactly30@old.example",
        "older@acme.example",
        "young@acme.example",
        "fresh@new.example",
      ]);
      expect([...left.keys()].sort()).toEqual([
        "fresh@new.example",
        "young@acme.example",
      ]);
      expect(left.get("young@acme.example")!.company?.name).toBe("acme");
    });

    it("records a firing's run once and its summary", async () => {
      const repo = await make();
      const firing = {
        id: "meeting-brief@2026-11-23T10:00:00.000Z",
        scheduledMs: T0,
      };
      await repo.startRun(firing, T0 + 1_000);
      await repo.startRun(firing, T0 + 2_000);
      expect(await repo.run(firing.id)).toEqual({
        startedMs: T0 + 1_000,
        finishedMs: null,
        summary: null,
      });
      const summary = {
        salesPeople: 1,
        calendarsSynced: 1,
        eventsFetched: 2,
        eventsInWindow: 1,
        fullResyncs: 1,
        tokenRefreshes: 0,
        participantsFromDb: 0,
        participantsFromApi: 1,
        participantsUnknown: 0,
        briefsQueued: 1,
        deadLetters: 0,
      };
      await repo.finishRun(firing.id, T0 + 3_000, summary);
      expect(await repo.run(firing.id)).toEqual({
        startedMs: T0 + 1_000,
        finishedMs: T0 + 3_000,
        summary,
      });
      expect(await repo.run("nope")).toBeUndefined();
    });
  });
}
