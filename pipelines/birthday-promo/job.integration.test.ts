import { randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DateTime } from "luxon";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createPostgresPool,
  type PostgresPool,
} from "../../connectors/postgres/pool.js";
import {
  startSmtpCapture,
  type SmtpCapture,
} from "../../connectors/smtp/testing/smtp-capture.js";
import { runJob, type RunJobOptions } from "../../runtime/lifecycle.js";
import { requireServices } from "../../stack/index.js";
import { generateUsers } from "./fixtures.js";
import job from "./jobs/birthday-promo-job.js";
import { postgresPromoStores } from "./stores.js";
import {
  startWhatsAppSimulator,
  type WhatsAppSimulator,
} from "./whatsapp/simulator.js";
import { migrateAll } from "./wiring.js";

const schema = `birthday_job_it_${randomBytes(4).toString("hex")}`;
let db: PostgresPool | undefined;
let capture: SmtpCapture | undefined;
let sim: WhatsAppSimulator | undefined;
let databaseUrl = "";

beforeAll(async () => {
  databaseUrl = (await requireServices(["postgres"])).databaseUrl;
  db = createPostgresPool({
    connectionString: databaseUrl,
    schema,
    poolMax: 4,
  });
  capture = await startSmtpCapture();
  sim = await startWhatsAppSimulator({ failureRate: 0.2, seed: 5 });
});
afterAll(async () => {
  await capture?.close();
  await sim?.close();
  if (db === undefined) return;
  try {
    await db.pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await db.end();
  }
});

/** A config file for the job: every minute (so "now" always has a firing), local SMTP and simulator. */
function configFile(): string {
  const dir = mkdtempSync(join(tmpdir(), "birthday-job-"));
  const file = join(dir, "config.json");
  writeFileSync(
    file,
    JSON.stringify({
      http: { port: 0, host: "127.0.0.1" },
      postgres: { url: databaseUrl, schema },
      job: {
        schema,
        cron: "* * * * *",
        toleranceMs: 120_000,
        smtp: {
          host: capture!.host,
          port: capture!.port,
          from: "promo@example.com",
        },
        whatsapp: {
          baseUrl: sim!.baseUrl,
          phoneNumberId: sim!.phoneNumberId,
          accessToken: { env: "BIRTHDAY_WA_TOKEN" },
        },
        maxAttempts: 8,
      },
    }),
  );
  return file;
}

describe("sluice run birthday-promo (run-once, PostgreSQL)", () => {
  it("runs the firing it was started for, exits 0, and a second start sends nothing again", async () => {
    await migrateAll(db!, schema);
    const today = DateTime.now().setZone("Asia/Jakarta").toISODate()!;
    await postgresPromoStores(db!, schema).users.insert(
      generateUsers({ count: 200, seed: 3, day: today }),
    );
    const env = {
      BIRTHDAY_WA_TOKEN: sim!.accessToken,
      PATH: process.env["PATH"] ?? "",
    };
    const lines: string[] = [];
    const options: RunJobOptions = {
      configFile: configFile(),
      env,
      signals: { on: () => undefined, off: () => undefined },
      jobStatsIntervalMs: 0,
      logDestination: { write: (line: string) => lines.push(line) },
    };
    const first = await runJob(job, options);
    expect(await first.exited, lines.join("")).toBe(0);
    const emails = capture!.messages.length;
    expect(emails).toBeGreaterThan(5);
    expect(
      [...capture!.countByRecipient().values()].every((n) => n === 1),
    ).toBe(true);
    const promos = await db!.pool.query(`SELECT code FROM "${schema}".promos`);
    expect(promos.rowCount).toBe(1);

    const second = await runJob(job, options);
    expect(await second.exited).toBe(0);
    expect(capture!.messages.length).toBe(emails);
    expect([...sim!.countByRecipient().values()].every((n) => n === 1)).toBe(
      true,
    );
    expect(
      (await db!.pool.query(`SELECT code FROM "${schema}".promos`)).rowCount,
    ).toBe(1);
  });
});
