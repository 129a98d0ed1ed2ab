// The three registered jobs, run as `sluice run` runs them (runJob, config file with secrets
// from env and file), once each (run-once, as K3s CronJobs), on PostgreSQL, the simulators
// and real SMTP to the capture server.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DateTime } from "luxon";
import { afterAll, describe, expect, it } from "vitest";
import { startSmtpCapture } from "../../connectors/smtp/testing/smtp-capture.js";
import { runJob } from "../../runtime/lifecycle.js";
import { isJobDefinition } from "../../runtime/job.js";
import { startCalendarSimulator } from "./calendar/simulator.js";
import { startEnrichmentSimulator } from "./enrichment/simulator.js";
import { entry } from "./entry.js";
import { postgresBriefRepo } from "./postgres-repo.js";
import { postgresStores } from "./wiring.js";
import { postgresFixture } from "./testing/postgres-fixture.js";

const pg = postgresFixture("mb_jobs");
const schema = pg.freshSchema();
const dir = mkdtempSync(join(tmpdir(), "meeting-brief-jobs-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function load(name: string) {
  const mod = (await entry.jobs![name]!()) as { default: unknown };
  if (!isJobDefinition(mod.default)) throw new Error(`${name} is not a job`);
  return mod.default;
}

/** Runs a job to its end; returns its exit code and everything it logged. */
async function runOnce(
  name: string,
  config: string,
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; log: string }> {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, config);
  let log = "";
  const run = await runJob(await load(name), {
    configFile: file,
    env: { ...env, DATABASE_URL: pg.databaseUrl, SLUICE_HTTP_PORT: "0" },
    logDestination: { write: (s: string) => ((log += s), true) },
    signals: { on: () => undefined, off: () => undefined },
    jobStatsIntervalMs: 0,
  });
  return { code: await run.exited, log };
}

describe("meeting-brief jobs (run-once) on PostgreSQL and SMTP", () => {
  it("05:00 run, 07:50 sender and retention run from their config, send one email per sales person, and never log a secret", async () => {
    const calendar = await startCalendarSimulator({
      clientSecret: "calendar-client-secret-xyz",
    });
    const enrichment = await startEnrichmentSimulator({
      apiKey: "sk_live_enrichment_key_xyz",
    });
    const capture = await startSmtpCapture({
      auth: { user: "briefs", pass: "smtp-password-xyz" },
    });
    try {
      const stores = await postgresStores(pg.db, schema, "meeting-brief");
      const repo = postgresBriefRepo(pg.db, schema);
      const tokens: string[] = [];
      for (const who of ["ana", "ben"]) {
        const email = `${who}@sales.example`;
        const t = calendar.addAccount(email, `1//refresh-${who}`);
        tokens.push(t.accessToken);
        await repo.addSalesPerson({
          name: who,
          email,
          accessToken: t.accessToken,
          refreshToken: `1//refresh-${who}`,
          expiresMs: t.expiresMs,
        });
        const start = DateTime.utc().plus({ hours: 2 }).startOf("hour");
        calendar.putEvent(email, {
          id: `intro-${who}`,
          summary: `Intro with Acme (${who})`,
          start: { dateTime: start.toISO() },
          end: { dateTime: start.plus({ minutes: 30 }).toISO() },
          attendees: [{ email, self: true }, { email: "cto@acme.example" }],
        });
      }
      const apiKeyFile = join(dir, "enrichment-api-key");
      writeFileSync(apiKeyFile, "sk_live_enrichment_key_xyz\n");
      // Every minute, in UTC, so a run-once start now has a firing; briefs due at the firing's minute.
      const sendAt = DateTime.utc().toFormat("HH:mm");
      const common = `job:\n  schema: ${schema}\n  timeZone: UTC\n  mode: run-once\n  cron: "* * * * *"\n`;
      const secrets = {
        MB_CALENDAR_SECRET: "calendar-client-secret-xyz",
        MB_SMTP_PASSWORD: "smtp-password-xyz",
      };

      const prepare = await runOnce(
        "meeting-brief",
        `${common}  sendAt: "${sendAt}"\n  calendar:\n    baseUrl: ${calendar.baseUrl}\n    tokenUrl: ${calendar.tokenUrl}\n    clientId: ${calendar.clientId}\n    clientSecret: { env: MB_CALENDAR_SECRET }\n  enrichment:\n    baseUrl: ${enrichment.baseUrl}\n    apiKey: { file: ${apiKeyFile} }\n`,
        secrets,
      );
      expect(prepare.code).toBe(0);
      expect(prepare.log).toMatch(/briefs prepared/);
      expect(await stores.queue.pending()).toBe(2);

      const sender = await runOnce(
        "meeting-brief-sender",
        `${common}  pollMs: 200\n  smtp:\n    host: ${capture.host}\n    port: ${capture.port}\n    secure: false\n    user: briefs\n    password: { env: MB_SMTP_PASSWORD }\n    from: "Sales briefs <briefs@sales.example>"\n`,
        secrets,
      );
      expect(sender.code).toBe(0);
      expect([...capture.countByRecipient().entries()].sort()).toEqual([
        ["ana@sales.example", 1],
        ["ben@sales.example", 1],
      ]);
      expect(capture.messages[0]!.subject).toMatch(
        /^Your meetings for .*: 1 meeting, 1 participant$/,
      );

      await pg.db.pool.query(
        `UPDATE "${schema}".participants SET updated_at = now() - interval '31 days'`,
      );
      const retention = await runOnce(
        "meeting-brief-retention",
        common,
        secrets,
      );
      expect(retention.code).toBe(0);
      expect(retention.log).toMatch(/"participants":1/);

      for (const secret of [
        "calendar-client-secret-xyz",
        "sk_live_enrichment_key_xyz",
        "smtp-password-xyz",
        ...tokens,
      ])
        for (const { log } of [prepare, sender, retention])
          expect(log).not.toContain(secret);
    } finally {
      await capture.close();
      await enrichment.close();
      await calendar.close();
    }
  });
});
