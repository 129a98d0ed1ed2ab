// A small simulated world for tests and the demo: a sales team, their calendars on the
// calendar simulator, participants on the enrichment simulator, a virtual clock.
import { DateTime } from "luxon";
import { GoogleCalendarClient } from "../calendar/client.js";
import {
  startCalendarSimulator,
  type CalendarSimulator,
  type CalendarSimulatorOptions,
} from "../calendar/simulator.js";
import { EnrichmentClient } from "../enrichment/client.js";
import {
  startEnrichmentSimulator,
  type EnrichmentSimulator,
  type EnrichmentSimulatorOptions,
} from "../enrichment/simulator.js";
import { seededRandom } from "../../../operators/internal/random.js";
import type { BriefRepo } from "../repo.js";

/** The zone of the test team (has a DST change, unlike UTC). */
export const TEAM_ZONE = "America/New_York";

/** A virtual clock the simulators and the jobs share. */
export interface VirtualClock {
  readonly now: () => number;
  readonly set: (ms: number) => void;
  readonly advance: (ms: number) => void;
}

export function virtualClock(startMs: number): VirtualClock {
  let t = startMs;
  return {
    now: () => t,
    set: (ms) => {
      t = ms;
    },
    advance: (ms) => {
      t += ms;
    },
  };
}

/** 05:00 on a local date in the team's zone, epoch ms. */
export const fiveAm = (isoDate: string, zone: string = TEAM_ZONE): number =>
  DateTime.fromISO(`${isoDate}T05:00:00`, { zone }).toMillis();

/** A running world. */
export interface World {
  readonly clock: VirtualClock;
  readonly calendarSim: CalendarSimulator;
  readonly enrichmentSim: EnrichmentSimulator;
  readonly calendar: GoogleCalendarClient;
  readonly enrichment: EnrichmentClient;
  /** Sales people as added: id, email, name. */
  readonly team: { id: number; name: string; email: string | null }[];
  close(): Promise<void>;
}

/** No waiting between retries (virtual time); jitter seeded. */
const noSleepRetry = (seed: number) => ({
  sleep: () => Promise.resolve(),
  random: seededRandom(seed),
  maxAttempts: 8,
});

/**
 * Starts both simulators and their clients on a virtual clock and adds `people` sales people
 * to `repo` (one without an email when `withBadRow`).
 */
export async function startWorld(
  repo: BriefRepo,
  o: {
    readonly startMs: number;
    readonly people: number;
    readonly withBadRow?: boolean;
    readonly calendar?: CalendarSimulatorOptions;
    readonly enrichment?: EnrichmentSimulatorOptions;
    readonly seed?: number;
  },
): Promise<World> {
  const clock = virtualClock(o.startMs);
  const calendarSim = await startCalendarSimulator({
    now: clock.now,
    seed: o.seed ?? 1,
    ...o.calendar,
  });
  const enrichmentSim = await startEnrichmentSimulator({
    seed: (o.seed ?? 1) + 1,
    ...o.enrichment,
  });
  const calendar = new GoogleCalendarClient({
    baseUrl: calendarSim.baseUrl,
    tokenUrl: calendarSim.tokenUrl,
    clientId: calendarSim.clientId,
    clientSecret: calendarSim.clientSecret,
    retry: noSleepRetry((o.seed ?? 1) + 2),
  });
  const enrichment = new EnrichmentClient({
    baseUrl: enrichmentSim.baseUrl,
    apiKey: enrichmentSim.apiKey,
    retry: noSleepRetry((o.seed ?? 1) + 3),
  });
  const team: { id: number; name: string; email: string | null }[] = [];
  for (let i = 1; i <= o.people; i++) {
    const email = `rep${i}@sales.example`;
    const refreshToken = `1//refresh-rep${i}`;
    const t = calendarSim.addAccount(email, refreshToken);
    const name = `Rep ${i}`;
    const id = await repo.addSalesPerson({
      name,
      email,
      accessToken: t.accessToken,
      refreshToken,
      expiresMs: t.expiresMs,
    });
    team.push({ id, name, email });
  }
  if (o.withBadRow === true) {
    const t = calendarSim.addAccount(
      "noemail@sales.example",
      "1//refresh-noemail",
    );
    const id = await repo.addSalesPerson({
      name: "Rep without email",
      email: null,
      accessToken: t.accessToken,
      refreshToken: "1//refresh-noemail",
      expiresMs: t.expiresMs,
    });
    team.push({ id, name: "Rep without email", email: null });
  }
  return {
    clock,
    calendarSim,
    enrichmentSim,
    calendar,
    enrichment,
    team,
    async close() {
      await calendarSim.close();
      await enrichmentSim.close();
    },
  };
}

/** A meeting of `rep` at local `HH:mm` on the firing's day, with outside participants. */
export function meeting(
  world: World,
  repEmail: string,
  id: string,
  o: {
    readonly day: string;
    readonly at: string;
    readonly minutes?: number;
    readonly participants: readonly string[];
    readonly summary?: string;
  },
): void {
  const start = DateTime.fromISO(`${o.day}T${o.at}:00`, { zone: TEAM_ZONE });
  const end = start.plus({ minutes: o.minutes ?? 30 });
  world.calendarSim.putEvent(repEmail, {
    id,
    summary: o.summary ?? `Call ${id}`,
    start: { dateTime: start.toISO()!, timeZone: TEAM_ZONE },
    end: { dateTime: end.toISO()!, timeZone: TEAM_ZONE },
    attendees: [
      {
        email: repEmail,
        self: true,
        organizer: true,
        responseStatus: "accepted",
      },
      ...o.participants.map((email) => ({
        email,
        responseStatus: "needsAction" as const,
      })),
      { email: "room-4@resource.calendar.google.com", resource: true },
    ],
  });
}
