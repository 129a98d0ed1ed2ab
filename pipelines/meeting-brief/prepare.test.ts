import { DateTime } from "luxon";
import { afterEach, describe, expect, it } from "vitest";
import { memoryDeadLetters } from "./dead-letters.js";
import { FRESH_FOR_MS } from "./enrich.js";
import { memoryBriefRepo } from "./memory-repo.js";
import { briefItemId, prepareBriefs, type PrepareDeps } from "./prepare.js";
import type { BriefRepo } from "./repo.js";
import { listQueue } from "./testing/memory-queue.js";
import {
  fiveAm,
  meeting,
  startWorld,
  TEAM_ZONE,
  type World,
} from "./testing/world.js";

const DAY1 = "2026-11-23";
const DAY2 = "2026-11-24";
const DAY = 24 * 3_600_000;

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

function deps(w: World, repo: BriefRepo, extra: Partial<PrepareDeps> = {}) {
  const deadLetters = memoryDeadLetters();
  const queue = listQueue();
  const d: PrepareDeps = {
    job: "meeting-brief",
    repo,
    calendar: w.calendar,
    enrichment: w.enrichment,
    deadLetters,
    queue,
    now: w.clock.now,
    timeZone: TEAM_ZONE,
    ...extra,
  };
  return { d, deadLetters, queue };
}

const firing = (day: string) => ({
  id: `meeting-brief@${new Date(fiveAm(day)).toISOString()}`,
  scheduledMs: fiveAm(day),
});

describe("prepareBriefs", () => {
  it("syncs, enriches, renders and queues one brief per sales person for 07:50 local; bad rows become dead letters", async () => {
    const repo = memoryBriefRepo();
    world = await startWorld(repo, {
      startMs: fiveAm(DAY1),
      people: 2,
      withBadRow: true,
    });
    meeting(world, "rep1@sales.example", "a1", {
      day: DAY1,
      at: "09:30",
      participants: ["cto@acme.example", "nobody@acme.example"],
      summary: "Acme <demo> & pricing",
    });
    meeting(world, "rep1@sales.example", "a2", {
      day: DAY1,
      at: "14:00",
      participants: ["cfo@globex.example"],
    });
    meeting(world, "rep2@sales.example", "b1", {
      day: DAY1,
      at: "11:00",
      participants: ["cto@acme.example"],
    });
    // outside the next 24 h: not briefed
    meeting(world, "rep2@sales.example", "b2", {
      day: "2026-11-25",
      at: "11:00",
      participants: ["late@initech.example"],
    });
    world.calendarSim.putRawItem("rep2@sales.example", {
      id: "broken",
      status: "confirmed",
      summary: "no times",
      updated: new Date(world.clock.now()).toISOString(),
    });

    const { d, deadLetters, queue } = deps(world, repo);
    const s = await prepareBriefs(firing(DAY1), d);

    expect(s).toMatchObject({
      salesPeople: 3,
      briefsQueued: 2,
      eventsInWindow: 3,
      fullResyncs: 2,
      participantsFromApi: 2,
      participantsUnknown: 1,
      participantsFromDb: 0,
    });
    expect(deadLetters.rows.map((r) => r.key).sort()).toEqual([
      `event/${world.team[1]!.id}/broken`,
      `sales-person/${world.team[2]!.id}`,
    ]);
    expect(
      deadLetters.rows.find((r) => r.key?.startsWith("sales-person"))?.reason,
    ).toMatch(/no valid email/);
    const first = queue.items.get(
      briefItemId(firing(DAY1).id, world.team[0]!.id),
    );
    expect(first).toBeDefined();
    expect(
      DateTime.fromMillis(first!.dueAt, { zone: TEAM_ZONE }).toFormat(
        "yyyy-MM-dd HH:mm",
      ),
    ).toBe(`${DAY1} 07:50`);
    expect(first!.payload.to).toBe("rep1@sales.example");
    expect(first!.payload.subject).toBe(
      "Your meetings for Monday 23 November: 2 meetings, 3 participants",
    );
    expect(first!.payload.html).toContain("Acme &lt;demo&gt; &amp; pricing");
    expect(first!.payload.html).toContain("09:30–10:00");
    expect(first!.payload.html).not.toContain("room-4@resource");
    expect(first!.payload.text).toContain("at Acme <cto@acme.example>");
  });

  it("second run fetches only events created or changed since the first, and still briefs the unchanged ones", async () => {
    const repo = memoryBriefRepo();
    world = await startWorld(repo, { startMs: fiveAm(DAY1), people: 1 });
    const rep = "rep1@sales.example";
    meeting(world, rep, "x1", {
      day: DAY2,
      at: "09:00",
      participants: ["a@acme.example"],
    });
    meeting(world, rep, "x2", {
      day: DAY2,
      at: "10:00",
      participants: ["b@acme.example"],
    });
    meeting(world, rep, "x3", {
      day: DAY2,
      at: "11:00",
      participants: ["c@acme.example"],
    });
    const first = deps(world, repo, { windowMs: 2 * DAY }); // enrich tomorrow's people today
    await prepareBriefs(firing(DAY1), first.d);
    expect(world.calendarSim.stats.itemsServed).toBe(3);

    world.clock.set(fiveAm(DAY2) - 3_600_000);
    meeting(world, rep, "x2", {
      day: DAY2,
      at: "10:30",
      participants: ["b@acme.example"],
    }); // moved
    meeting(world, rep, "x4", {
      day: DAY2,
      at: "15:00",
      participants: ["d@globex.example"],
    }); // new
    world.calendarSim.cancelEvent(rep, "x3");
    world.clock.set(fiveAm(DAY2));
    const second = deps(world, repo);
    const s = await prepareBriefs(firing(DAY2), second.d);

    expect(world.calendarSim.stats.itemsServed - 3).toBe(3); // x2, x4 and the cancellation of x3
    expect(world.calendarSim.stats.incrementalSyncs).toBe(1);
    expect(s).toMatchObject({
      eventsFetched: 3,
      fullResyncs: 0,
      eventsInWindow: 3,
      participantsFromDb: 2,
      participantsFromApi: 1,
    });
    const brief = second.queue.items.get(
      briefItemId(firing(DAY2).id, world.team[0]!.id),
    )!.payload;
    expect(brief.html).toContain("10:30–11:00");
    expect(brief.html).toContain("Call x1");
    expect(brief.html).not.toContain("Call x3");
  });

  it("refreshes the access token after a 401 and stores the new one", async () => {
    const repo = memoryBriefRepo();
    world = await startWorld(repo, { startMs: fiveAm(DAY1), people: 1 });
    meeting(world, "rep1@sales.example", "t1", {
      day: DAY1,
      at: "09:00",
      participants: ["a@acme.example"],
    });
    const before = (await repo.salesPeople())[0]!.accessToken;
    world.calendarSim.expireAccessTokens(); // the database still thinks the token is valid
    const { d } = deps(world, repo);
    const s = await prepareBriefs(firing(DAY1), d);
    expect(world.calendarSim.stats.unauthorized).toBe(1);
    expect(world.calendarSim.stats.tokenRefreshes).toBe(1);
    expect(s).toMatchObject({ tokenRefreshes: 1, briefsQueued: 1 });
    const after = (await repo.salesPeople())[0]!;
    expect(after.accessToken).not.toBe(before);
    expect(after.expiresMs).toBe(world.clock.now() + 3_600_000);
  });

  it("refreshes an access token that expires before the run starts, without a 401", async () => {
    const repo = memoryBriefRepo();
    world = await startWorld(repo, {
      startMs: fiveAm(DAY1) - 2 * 3_600_000,
      people: 1,
    });
    meeting(world, "rep1@sales.example", "t1", {
      day: DAY1,
      at: "09:00",
      participants: ["a@acme.example"],
    });
    world.clock.set(fiveAm(DAY1)); // the token issued two hours ago has expired
    const { d } = deps(world, repo);
    await prepareBriefs(firing(DAY1), d);
    expect(world.calendarSim.stats.unauthorized).toBe(0);
    expect(world.calendarSim.stats.tokenRefreshes).toBe(1);
  });

  it("a stale sync token (410 Gone) triggers a full resync that replaces the mirror", async () => {
    const repo = memoryBriefRepo();
    world = await startWorld(repo, { startMs: fiveAm(DAY1), people: 1 });
    const rep = "rep1@sales.example";
    meeting(world, rep, "g1", {
      day: DAY2,
      at: "09:00",
      participants: ["a@acme.example"],
    });
    await prepareBriefs(firing(DAY1), deps(world, repo).d);
    world.calendarSim.invalidateSyncTokens();
    meeting(world, rep, "g2", {
      day: DAY2,
      at: "10:00",
      participants: ["b@acme.example"],
    });
    world.clock.set(fiveAm(DAY2));
    const { d, queue } = deps(world, repo);
    const s = await prepareBriefs(firing(DAY2), d);
    expect(world.calendarSim.stats.gone).toBe(1);
    expect(s).toMatchObject({ fullResyncs: 1, eventsInWindow: 2 });
    expect([...queue.items.values()][0]!.payload.html).toContain("Call g2");
  });

  it("uses participants fresher than 30 days from the database and re-enriches older ones", async () => {
    const repo = memoryBriefRepo();
    const start = fiveAm(DAY1);
    world = await startWorld(repo, { startMs: start, people: 1 });
    await repo.saveParticipant(
      {
        email: "fresh@acme.example",
        firstName: "Fresh",
        lastName: "Row",
        avatar: null,
        title: "Old title",
        linkedinUrl: null,
        company: null,
      },
      start - FRESH_FOR_MS + 60_000,
    );
    await repo.saveParticipant(
      {
        email: "stale@acme.example",
        firstName: "Stale",
        lastName: "Row",
        avatar: null,
        title: "Old title",
        linkedinUrl: null,
        company: null,
      },
      start - FRESH_FOR_MS,
    );
    meeting(world, "rep1@sales.example", "f1", {
      day: DAY1,
      at: "09:00",
      participants: ["fresh@acme.example", "stale@acme.example"],
    });
    const s = await prepareBriefs(firing(DAY1), deps(world, repo).d);
    expect(s).toMatchObject({ participantsFromDb: 1, participantsFromApi: 1 });
    expect([...world.enrichmentSim.lookups.keys()]).toEqual([
      "stale@acme.example",
    ]);
    const rows = await repo.participantsByEmail([
      "fresh@acme.example",
      "stale@acme.example",
    ]);
    expect(rows.get("fresh@acme.example")!.title).toBe("Old title");
    expect(rows.get("stale@acme.example")!.title).not.toBe("Old title");
    expect(rows.get("stale@acme.example")!.updatedMs).toBe(start);
  });

  it("with both simulators failing 20% of calls, every sales person is queued or dead-lettered with a reason", async () => {
    const repo = memoryBriefRepo();
    world = await startWorld(repo, {
      startMs: fiveAm(DAY1),
      people: 8,
      calendar: { failureRate: 0.2 },
      enrichment: { failureRate: 0.2 },
      seed: 5,
    });
    for (const [i, p] of world.team.entries())
      meeting(world, p.email!, `m${i}`, {
        day: DAY1,
        at: "10:00",
        participants: [`p${i}@acme.example`, `q${i}@globex.example`],
      });
    const { d, deadLetters, queue } = deps(world, repo);
    const s = await prepareBriefs(firing(DAY1), d);
    expect(
      world.calendarSim.stats.failuresInjected +
        world.enrichmentSim.stats.failuresInjected,
    ).toBeGreaterThan(0);
    const queuedIds = new Set(
      [...queue.items.values()].map((i) => i.payload.salesPersonId),
    );
    const deadIds = new Set(
      deadLetters.rows
        .filter((r) => r.key?.startsWith("sales-person/"))
        .map((r) => Number(r.key!.split("/")[1])),
    );
    for (const p of world.team)
      expect(queuedIds.has(p.id) || deadIds.has(p.id)).toBe(true);
    for (const r of deadLetters.rows) expect(r.reason).not.toBe("");
    expect(s.briefsQueued).toBe(queuedIds.size);
  });

  it("a rerun of the same firing queues nothing twice", async () => {
    const repo = memoryBriefRepo();
    world = await startWorld(repo, { startMs: fiveAm(DAY1), people: 2 });
    for (const p of world.team)
      meeting(world, p.email!, `r-${p.id}`, {
        day: DAY1,
        at: "12:00",
        participants: ["x@acme.example"],
      });
    const { d, queue } = deps(world, repo);
    await prepareBriefs(firing(DAY1), d);
    await prepareBriefs(firing(DAY1), {
      ...d,
      now: () => world!.clock.now() + DAY / 48,
    });
    expect(queue.items.size).toBe(2);
  });
  it("a calendar whose refresh token was revoked is a dead letter; the others are still briefed", async () => {
    const repo = memoryBriefRepo();
    world = await startWorld(repo, { startMs: fiveAm(DAY1), people: 2 });
    for (const p of world.team)
      meeting(world, p.email!, `v-${p.id}`, {
        day: DAY1,
        at: "12:00",
        participants: ["x@acme.example"],
      });
    world.calendarSim.revokeRefreshToken("1//refresh-rep1");
    world.calendarSim.expireAccessTokens();
    const { d, deadLetters, queue } = deps(world, repo);
    const s = await prepareBriefs(firing(DAY1), d);
    expect(s).toMatchObject({ calendarsSynced: 1, briefsQueued: 1 });
    expect(deadLetters.rows).toHaveLength(1);
    expect(deadLetters.rows[0]).toMatchObject({
      stage: "source",
      key: `sales-person/${world.team[0]!.id}`,
    });
    expect(deadLetters.rows[0]!.reason).toMatch(/invalid_grant/);
    expect([...queue.items.values()][0]!.payload.to).toBe("rep2@sales.example");
  });
});
