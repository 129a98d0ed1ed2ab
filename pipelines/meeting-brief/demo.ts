// `sluice demo meeting-brief`: two mornings of a sales team on simulated Google Calendar and
// enrichment APIs, with real SMTP to an in-process capture server, on a virtual clock: the
// 05:00 firing (schedule source), 07:50 delivery (send-at queue + action log), a second day
// with incremental sync and cached participants, and the 30-day retention.
import { DateTime } from "luxon";
import { lastValueFrom } from "rxjs";
import { createPostgresPool } from "../../connectors/postgres/index.js";
import { scheduleSource } from "../../connectors/schedule/index.js";
import { smtpSender } from "../../connectors/smtp/index.js";
import {
  startSmtpCapture,
  type SmtpCapture,
} from "../../connectors/smtp/testing/smtp-capture.js";
import type { DemoArgs } from "../../runtime/pipelines.js";
import { endpoints } from "../../stack/index.js";
import { acceleratedScheduler } from "./clock.js";
import { recordingDeadLetters } from "./dead-letters.js";
import { deliverBriefs, type DeliverySummary } from "./deliver.js";
import { ackAfter } from "../../operators/ack-after.js";
import { seededRandom } from "../../operators/internal/random.js";
import { prepareBriefs } from "./prepare.js";
import type { RunSummary } from "./repo.js";
import { runRetention } from "./retention.js";
import {
  fiveAm,
  meeting,
  startWorld,
  TEAM_ZONE,
  type World,
} from "./testing/world.js";
import { memoryStores, postgresStores, type BriefStores } from "./wiring.js";

/** Options of {@link runScenario}. */
export interface ScenarioOptions {
  readonly people: number;
  readonly seed: number;
  /** Share of simulator calls that fail (retried by the clients). Default 0.1. */
  readonly failureRate?: number;
  /** Share of SMTP messages refused with 451 (retried). Default 0.05. */
  readonly smtpFailureRate?: number;
  /** First local day, `YYYY-MM-DD`. Default 2026-11-23 (a Monday). */
  readonly day?: string;
}

/** One morning's figures. */
export interface MorningReport {
  readonly firingId: string;
  readonly prepared: RunSummary;
  readonly delivered: DeliverySummary;
}

/** What the scenario did. */
export interface ScenarioReport {
  readonly mornings: readonly MorningReport[];
  readonly retention: {
    readonly atDay: string;
    readonly participants: number;
    readonly companies: number;
    readonly events: number;
  };
  readonly emails: number;
  /** Emails per recipient over both mornings. */
  readonly perRecipient: ReadonlyMap<string, number>;
  readonly sampleSubject: string | undefined;
  readonly deadLetters: readonly string[];
  readonly calls: {
    readonly calendar: number;
    readonly calendarFailed: number;
    readonly enrichment: number;
    readonly enrichmentFailed: number;
    readonly smtpRefused: number;
  };
}

const DOMAINS = [
  "acme.example",
  "globex.example",
  "initech.example",
  "umbrella.example",
  "unknown.example",
];

function plusDays(day: string, n: number): string {
  return DateTime.fromISO(day, { zone: TEAM_ZONE })
    .plus({ days: n })
    .toISODate()!;
}

/**
 * Runs two mornings and the retention on `stores` (memory or PostgreSQL) against the
 * simulators and an SMTP capture server, on virtual time. Used by the demo and the tests.
 */
export async function runScenario(
  given: BriefStores,
  o: ScenarioOptions,
): Promise<ScenarioReport> {
  const deadLetters = recordingDeadLetters(given.deadLetters);
  const stores: BriefStores = { ...given, deadLetters };
  const day1 = o.day ?? "2026-11-23";
  const random = seededRandom(o.seed);
  const pick = <T>(xs: readonly T[]): T =>
    xs[Math.floor(random() * xs.length)]!;
  const world: World = await startWorld(stores.repo, {
    startMs: fiveAm(day1) - 3_600_000,
    people: o.people,
    withBadRow: true,
    seed: o.seed,
    calendar: { failureRate: o.failureRate ?? 0.1 },
    enrichment: { failureRate: o.failureRate ?? 0.1 },
  });
  let capture: SmtpCapture | undefined;
  try {
    capture = await startSmtpCapture({
      failure: { rate: o.smtpFailureRate ?? 0.05, code: 451 },
      seed: o.seed,
    });
    const smtp = smtpSender({
      host: capture.host,
      port: capture.port,
      from: "Sales briefs <briefs@sales.example>",
      messageIdDomain: "briefs.sales.example",
    });
    const people = Array.from(
      { length: Math.max(6, o.people * 3) },
      (_, i) =>
        `${pick(["ana", "li", "sam", "kofi", "eva", "raj"])}.${i}@${pick(DOMAINS)}`,
    );
    const reps = world.team.filter((p) => p.email !== null);
    for (const rep of reps) {
      const n = 2 + Math.floor(random() * 3);
      for (let i = 0; i < n; i++)
        meeting(world, rep.email!, `ev-${rep.id}-${i}`, {
          day: i === n - 1 ? plusDays(day1, 1) : day1, // one meeting tomorrow: briefed on day 2
          at: `${String(8 + i * 2).padStart(2, "0")}:${pick(["00", "30"])}`,
          participants: [pick(people), pick(people)],
          summary: `${pick(["Intro", "Demo", "Pricing", "Renewal", "Kick-off"])} with ${pick(["Acme", "Globex", "Initech"])}`,
        });
    }
    world.calendarSim.putRawItem(reps[0]!.email!, {
      id: "broken-1",
      status: "confirmed",
      summary: "no start",
      updated: new Date(world.clock.now()).toISOString(),
    });
    world.calendarSim.expireAccessTokens(); // the stored tokens are stale: every calendar refreshes on a 401

    const mornings: MorningReport[] = [];
    const morning = async (day: string): Promise<void> => {
      // The 05:00 firing, taken from the schedule source as a CronJob would (run-once).
      world.clock.set(fiveAm(day) + 20_000);
      const source = scheduleSource({
        job: "meeting-brief",
        cron: "0 5 * * *",
        timeZone: TEAM_ZONE,
        store: stores.firings,
        mode: "run-once",
        scheduler: acceleratedScheduler(world.clock.now(), 1),
      });
      let fired: { id: string; prepared: RunSummary } | undefined;
      await lastValueFrom(
        source.records().pipe(
          // The firing is recorded done once its briefs are prepared.
          ackAfter(async (r) => {
            const prepared = await prepareBriefs(
              { id: r.value.id, scheduledMs: r.value.scheduledAt },
              {
                job: "meeting-brief",
                repo: stores.repo,
                calendar: world.calendar,
                enrichment: world.enrichment,
                deadLetters: stores.deadLetters,
                queue: stores.queue,
                now: world.clock.now,
                timeZone: TEAM_ZONE,
              },
            );
            fired = { id: r.value.id, prepared };
          }),
        ),
        { defaultValue: undefined },
      );
      if (fired === undefined)
        throw new Error(`meeting-brief demo: no 05:00 firing on ${day}`);
      // 07:50: deliver what is due (run-once).
      const at0750 = DateTime.fromISO(`${day}T07:49:00`, {
        zone: TEAM_ZONE,
      }).toMillis();
      const delivered = await deliverBriefs({
        job: "meeting-brief-sender",
        queue: stores.queue,
        log: stores.log,
        sender: smtp,
        deadLetters: stores.deadLetters,
        stopWhenEmpty: true,
        pollMs: 10_000,
        leaseMs: 3_600_000, // 6 real seconds at 600×: a slow machine never outlives a lease
        retry: { maxAttempts: 6, baseDelayMs: 2_000, seed: o.seed },
        scheduler: acceleratedScheduler(at0750, 600), // 10 virtual minutes per real second
      }).done;
      mornings.push({
        firingId: fired.id,
        prepared: fired.prepared,
        delivered,
      });
    };

    await morning(day1);
    // During day 1: one meeting moves, one is added, one is cancelled.
    const day2 = plusDays(day1, 1);
    world.clock.set(fiveAm(day1) + 8 * 3_600_000);
    for (const rep of reps.slice(0, Math.max(1, Math.floor(reps.length / 2)))) {
      meeting(world, rep.email!, `ev-${rep.id}-new`, {
        day: day2,
        at: "16:00",
        participants: [pick(people)],
        summary: "Follow-up call",
      });
      world.calendarSim.cancelEvent(rep.email!, `ev-${rep.id}-0`);
    }
    await morning(day2);
    await smtp.close();

    // Retention 30 days after day 1's enrichment.
    const atDay = plusDays(day1, 30);
    const deleted = await runRetention(
      stores.repo,
      fiveAm(atDay) + 2 * 3_600_000,
    );
    const perRecipient = capture.countByRecipient();
    return {
      mornings,
      retention: { atDay, ...deleted },
      emails: capture.messages.length,
      perRecipient,
      sampleSubject: capture.messages[0]?.subject,
      deadLetters: deadLetters.rows.map((d) => `${d.key ?? ""}: ${d.reason}`),
      calls: {
        calendar:
          world.calendarSim.stats.listCalls +
          world.calendarSim.stats.tokenRefreshes +
          world.calendarSim.stats.failuresInjected,
        calendarFailed: world.calendarSim.stats.failuresInjected,
        enrichment: world.enrichmentSim.stats.calls,
        enrichmentFailed: world.enrichmentSim.stats.failuresInjected,
        smtpRefused: capture.refused,
      },
    };
  } finally {
    await capture?.close();
    await world.close();
  }
}

function counted(xs: readonly string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const x of xs) m.set(x, (m.get(x) ?? 0) + 1);
  return m;
}

/** The summary a person reads after the demo. */
export function summary(r: ScenarioReport, people: number): string {
  const lines = [
    `meeting-brief: ${people} sales people (+1 without an email), team zone ${TEAM_ZONE}`,
  ];
  for (const [i, m] of r.mornings.entries()) {
    const p = m.prepared;
    lines.push(
      "",
      `day ${i + 1}: firing ${m.firingId}`,
      `  calendar: ${p.eventsFetched} events fetched (${p.calendarsSynced} calendars: ${p.fullResyncs} full syncs, ${p.calendarsSynced - p.fullResyncs} incremental), ${p.eventsInWindow} in the next 24 h; ${p.tokenRefreshes} access tokens refreshed`,
      `  participants: ${p.participantsFromDb} from the database, ${p.participantsFromApi} from the enrichment API, ${p.participantsUnknown} unknown to it`,
      `  briefs: ${p.briefsQueued} queued for 07:50; ${m.delivered.sent} sent over SMTP, ${m.delivered.alreadySent} already sent, ${m.delivered.deadLettered} dead-lettered`,
    );
  }
  const max = Math.max(0, ...r.perRecipient.values());
  lines.push(
    "",
    `emails: ${r.emails} accepted by SMTP over ${r.mornings.length} mornings, at most ${max} per recipient`,
    `retention on ${r.retention.atDay}: ${r.retention.participants} participants, ${r.retention.companies} companies and ${r.retention.events} mirrored events deleted (30 days old or older)`,
    `outside calls: calendar ${r.calls.calendar} (${r.calls.calendarFailed} failed and retried), enrichment ${r.calls.enrichment} (${r.calls.enrichmentFailed} failed and retried), SMTP refusals ${r.calls.smtpRefused} (retried)`,
    `dead letters (${r.deadLetters.length}):`,
    ...[...counted(r.deadLetters)]
      .slice(0, 6)
      .map(
        ([d, n]) =>
          `  ${d.length > 140 ? `${d.slice(0, 137)}...` : d}${n > 1 ? ` (×${n}, one per morning)` : ""}`,
      ),
    `sample subject: ${JSON.stringify(r.sampleSubject ?? "")}`,
  );
  return lines.join("\n");
}

/** `sluice demo meeting-brief [--size N] [--stack local]`. */
export async function runMeetingBriefDemo(args: DemoArgs): Promise<void> {
  const people = args.size ?? 5;
  if (args.stack !== "local") {
    const stores = memoryStores();
    const report = await runScenario(stores, { people, seed: args.seed });
    console.log(summary(report, people));
    return;
  }
  const schema = args.keep ?? `meeting_brief_demo_${Date.now().toString(36)}`;
  const db = createPostgresPool({ connectionString: endpoints().databaseUrl });
  try {
    const stores = await postgresStores(db, schema, "meeting-brief");
    const report = await runScenario(stores, { people, seed: args.seed });
    console.log(summary(report, people));
    console.log(
      `PostgreSQL schema: ${schema}${args.keep === undefined ? " (dropped)" : " (kept)"}`,
    );
  } finally {
    if (args.keep === undefined)
      await db.pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await db.end();
  }
}
