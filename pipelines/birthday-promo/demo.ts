import { randomBytes } from "node:crypto";
import { asyncScheduler } from "rxjs";
import { CronCalendar } from "../../connectors/schedule/calendar.js";
import type { Firing } from "../../connectors/schedule/source.js";
import {
  createPostgresPool,
  type PostgresPool,
} from "../../connectors/postgres/pool.js";
import type { DemoArgs } from "../../runtime/pipelines.js";
import { requireServices } from "../../stack/index.js";
import { LEAP_DAY_RULE } from "./birthday.js";
import { generateUsers } from "./fixtures.js";
import { PROMO_SCHEDULE, runOnceFiring } from "./firing.js";
import {
  DEFAULT_SETTINGS,
  runBirthdayPromo,
  type ChannelCounts,
  type PromoSummary,
} from "./run.js";
import { startLocalWorld, type LocalWorld } from "./wiring.js";

const fmt = (n: number): string => n.toLocaleString("en");
const channel = (c: ChannelCounts): string =>
  `${fmt(c.sent)} sent, ${fmt(c["already-sent"])} already sent, ${fmt(c["confirmed-by-lookup"])} confirmed by lookup, ${fmt(c["dead-lettered"])} dead-lettered`;

/** The readable summary of one promo run. */
export function summary(s: PromoSummary, title: string): string {
  const lines = [
    `${title}: firing ${s.firingId} (local day ${s.day}; celebrates ${s.celebrated.join(", ")})`,
    `  candidates read: ${fmt(s.candidates)}; eligible verified birthday users: ${fmt(s.eligible)}`,
    `  promo ${s.promo.code} (${s.promo.id}) ${s.promo.created ? "created" : "already existed"}; eligibilities created: ${fmt(s.eligibilitiesCreated)}`,
    `  email:    ${channel(s.email)}`,
    `  whatsapp: ${channel(s.whatsapp)}`,
  ];
  if (s.badRows.length > 0) {
    lines.push(`  bad rows reported to the dead letters: ${s.badRows.length}`);
    for (const b of s.badRows.slice(0, 6))
      lines.push(`    ${b.userId} (${b.scope}): ${b.reason}`);
  }
  if (s.failedSends.length > 0) {
    lines.push(`  sends dead-lettered: ${s.failedSends.length}`);
    for (const f of s.failedSends.slice(0, 4))
      lines.push(`    ${f.key}: ${f.code} ${f.reason}`);
  }
  return lines.join("\n");
}

/**
 * `sluice demo birthday-promo`: plays the most recent 00:01 Asia/Jakarta firing for
 * generated users (`--size`, default 2 000) against the SMTP capture server and the WhatsApp
 * simulator (failing 20% of calls), then the CronJob starting again for the same firing and
 * a forced rerun of it, and prints what each did. Memory stores by default; `--stack local`
 * uses PostgreSQL (a schema per run, dropped unless `--keep <id>`).
 */
export async function runBirthdayDemo(args: DemoArgs): Promise<void> {
  const users = args.size ?? 2_000;
  const latest = new CronCalendar(PROMO_SCHEDULE).latest(Date.now());
  if (latest === undefined)
    throw new Error("the promo schedule has no past firing");
  let db: PostgresPool | undefined;
  let schema: string | undefined;
  if (args.stack === "local") {
    const env = await requireServices(["postgres"]);
    schema = `birthday_promo_${args.keep ?? `demo_${randomBytes(3).toString("hex")}`}`;
    db = createPostgresPool({
      connectionString: env.databaseUrl,
      schema,
      poolMax: 6,
    });
  }
  let world: LocalWorld | undefined;
  try {
    world = await startLocalWorld({
      whatsappFailureRate: 0.2,
      whatsappLatencyMs: 5,
      smtpFailureRate: 0.05,
      seed: args.seed,
      ...(db !== undefined && schema !== undefined
        ? { postgres: { db, schema } }
        : {}),
    });
    const w = world;
    const fire = <R>(offsetMs: number, run: (firing: Firing) => Promise<R>) =>
      runOnceFiring(
        {
          job: DEFAULT_SETTINGS.job,
          store: w.firings,
          nowMs: latest.at + offsetMs,
          scheduler: asyncScheduler,
        },
        run,
      );
    console.log(
      `Sluice demo: birthday promo (seeds/004) at 00:01 Asia/Jakarta, ${args.stack === "local" ? `on PostgreSQL schema ${schema ?? ""}` : "embedded (memory stores)"}\n` +
        `  ${fmt(users)} generated users; SMTP capture on ${w.capture.host}:${w.capture.port} (5% refused with 451); ` +
        `WhatsApp simulator on ${w.whatsapp.baseUrl} (20% of calls fail with 500/429)\n  rule: ${LEAP_DAY_RULE}\n`,
    );
    const t0 = Date.now();
    // The firing is recorded done once its run resolves (and run again if it throws).
    const start = await fire(7_000, async (firing) => {
      await w.deps.users.insert(
        generateUsers({ count: users, seed: args.seed, day: firing.localDate }),
      );
      return runBirthdayPromo(firing, w.deps);
    });
    if (start.firing === undefined || start.result === undefined) {
      console.log(
        `firing ${new Date(latest.at).toISOString()} was already done in this store (run-once detected the duplicate)`,
      );
      return;
    }
    const first = start.result;
    console.log(
      summary(first, `first run (${((Date.now() - t0) / 1000).toFixed(1)} s)`),
    );

    const again = await fire(60_000, (firing) =>
      runBirthdayPromo(firing, w.deps),
    );
    console.log(
      `\nthe CronJob started again 1 minute later for the same instant: ${again.firing === undefined ? `duplicate detected (${again.stats.duplicates}), nothing run` : "ran again (unexpected)"}`,
    );

    const forced = await runBirthdayPromo(start.firing, w.deps);
    console.log(`\n${summary(forced, "forced rerun of the same firing")}`);
    const dupEmails = [...w.capture.countByMessageId().values()].filter(
      (n) => n > 1,
    ).length;
    const dupWa = [...w.whatsapp.countByRecipient().values()].filter(
      (n) => n > 1,
    ).length;
    console.log(
      `\nreceived: ${fmt(w.capture.messages.length)} emails at the SMTP server (${w.capture.refused} refused and retried), ` +
        `${fmt(w.whatsapp.accepted.length)} WhatsApp messages (${w.whatsapp.failed} failed calls retried); ` +
        `duplicates: ${dupEmails} emails, ${dupWa} WhatsApp`,
    );
  } finally {
    await world?.close();
    if (db !== undefined && schema !== undefined) {
      if (args.keep === undefined)
        await db.pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await db.end();
    }
  }
}
