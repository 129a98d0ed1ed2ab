import { randomBytes } from "node:crypto";
import { asyncScheduler } from "rxjs";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  crashableLog,
  crashingSender,
  crashSwitch,
} from "../../connectors/fanout/testing/crash.js";
import {
  createPostgresPool,
  type PostgresPool,
} from "../../connectors/postgres/pool.js";
import { requireServices } from "../../stack/index.js";
import { generateUsers } from "./fixtures.js";
import { promoInstant, runOnceFiring } from "./firing.js";
import {
  DEFAULT_SETTINGS,
  runBirthdayPromo,
  type PromoSummary,
} from "./run.js";
import {
  startLocalWorld,
  type LocalWorld,
  type LocalWorldOptions,
} from "./wiring.js";

// A schema per world, all dropped in afterAll.
const base = `birthday_it_${randomBytes(4).toString("hex")}`;
const schemas: string[] = [];
let db: PostgresPool | undefined;
let world: LocalWorld | undefined;
const SETTINGS = {
  ...DEFAULT_SETTINGS,
  retry: { maxAttempts: 6, baseDelayMs: 2, maxDelayMs: 20 },
  leaseMs: 1_000,
};
const DAY = "2026-11-22";

beforeAll(async () => {
  const env = await requireServices(["postgres"]);
  db = createPostgresPool({
    connectionString: env.databaseUrl,
    schema: base,
    poolMax: 8,
  });
});
afterEach(async () => {
  await world?.close();
  world = undefined;
});
afterAll(async () => {
  if (db === undefined) return;
  try {
    for (const s of schemas)
      await db.pool.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
  } finally {
    await db.end();
  }
});

async function pgWorld(
  options: LocalWorldOptions = {},
): Promise<{ w: LocalWorld; schema: string }> {
  if (db === undefined) throw new Error("pool not created in beforeAll");
  const schema = `${base}_${schemas.length}`;
  schemas.push(schema);
  world = await startLocalWorld({ ...options, postgres: { db, schema } });
  return { w: world, schema };
}

async function fire(
  w: LocalWorld,
  offsetMs = 5_000,
): Promise<PromoSummary | undefined> {
  const { result } = await runOnceFiring(
    {
      job: "birthday-promo",
      store: w.firings,
      nowMs: promoInstant(DAY) + offsetMs,
      scheduler: asyncScheduler,
    },
    (firing) => runBirthdayPromo(firing, w.deps, SETTINGS),
  );
  return result;
}

const count = async (sql: string): Promise<number> =>
  Number((await db!.pool.query<{ n: string }>(sql)).rows[0]?.n);

describe("birthday promo on PostgreSQL", () => {
  it("one promo and its eligibilities in the database; 20% failing calls end delivered or dead-lettered; a rerun adds nothing", async () => {
    const { w, schema } = await pgWorld({
      whatsappFailureRate: 0.2,
      smtpFailureRate: 0.2,
      seed: 4,
    });
    await w.deps.users.insert(
      generateUsers({ count: 300, seed: 21, day: DAY }),
    );
    const s = (await fire(w))!;
    expect(s.promo.created).toBe(true);
    expect(await count(`SELECT count(*) AS n FROM "${schema}".promos`)).toBe(1);
    expect(
      await count(`SELECT count(*) AS n FROM "${schema}".promo_eligibilities`),
    ).toBe(s.eligible);
    expect(w.whatsapp.failed).toBeGreaterThan(0);
    expect(w.capture.refused).toBeGreaterThan(0);
    expect(s.email.sent + s.email["dead-lettered"]).toBe(s.eligible - 3);
    expect(
      [...w.capture.countByRecipient().values()].every((n) => n === 1),
    ).toBe(true);
    expect(
      [...w.whatsapp.countByRecipient().values()].every((n) => n === 1),
    ).toBe(true);
    expect(
      await count(
        `SELECT count(*) AS n FROM "${schema}".dead_letters WHERE stage = 'validate'`,
      ),
    ).toBe(9);
    expect(
      await count(
        `SELECT count(*) AS n FROM "${schema}".action_log WHERE state NOT IN ('sent', 'failed')`,
      ),
    ).toBe(0);
    expect(
      await count(
        `SELECT count(*) AS n FROM "${schema}".schedule_firings WHERE status = 'done'`,
      ),
    ).toBe(1);

    const emails = w.capture.messages.length;
    const was = w.whatsapp.accepted.length;
    expect(await fire(w, 120_000)).toBeUndefined(); // the same firing again: detected by its id
    const forced = await runBirthdayPromo(
      {
        ...s,
        id: s.firingId,
        job: "birthday-promo",
        scheduledAt: promoInstant(DAY),
        localDate: DAY,
        localTime: "",
        timeZone: "Asia/Jakarta",
        firedAt: 0,
        late: false,
        attempt: 1,
      },
      w.deps,
      SETTINGS,
    );
    expect(forced.promo.created).toBe(false);
    expect(forced.eligibilitiesCreated).toBe(0);
    expect(forced.email.sent).toBe(
      s.email["dead-lettered"] > 0 ? forced.email.sent : 0,
    );
    expect(await count(`SELECT count(*) AS n FROM "${schema}".promos`)).toBe(1);
    expect(
      await count(`SELECT count(*) AS n FROM "${schema}".promo_eligibilities`),
    ).toBe(s.eligible);
    // only earlier failures may be tried again; nothing that was sent is sent again
    expect(w.capture.messages.length).toBe(emails + forced.email.sent);
    expect(w.whatsapp.accepted.length).toBe(was + forced.whatsapp.sent);
    expect(
      [...w.capture.countByRecipient().values()].every((n) => n === 1),
    ).toBe(true);
  });

  it("killed in the middle of the send batch and restarted: every recipient gets exactly one email", async () => {
    const { w, schema } = await pgWorld();
    await w.deps.users.insert(generateUsers({ count: 400, seed: 8, day: DAY }));
    const crash = crashSwitch();
    // The process dies mid-run: the firing is never settled (its run never ends).
    void runOnceFiring(
      {
        job: "birthday-promo",
        store: w.firings,
        nowMs: promoInstant(DAY) + 5_000,
        scheduler: asyncScheduler,
      },
      (firing) => {
        void runBirthdayPromo(
          firing,
          {
            ...w.deps,
            log: crashableLog(w.deps.log, crash),
            email: crashingSender(w.deps.email, crash, 12),
          },
          SETTINGS,
        );
        return new Promise<never>(() => undefined);
      },
    );
    while (!crash.crashed) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 200)); // sends in flight reach the server; the process is gone
    const before = w.capture.messages.length;
    expect(before).toBeGreaterThanOrEqual(12);
    expect(
      await count(
        `SELECT count(*) AS n FROM "${schema}".action_log WHERE action = 'email' AND state = 'sending'`,
      ),
    ).toBeGreaterThan(0);

    // the CronJob's pod restarts: the firing was started and never finished, so it runs again
    const restart = await runOnceFiring(
      {
        job: "birthday-promo",
        store: w.firings,
        nowMs: promoInstant(DAY) + 90_000,
        scheduler: asyncScheduler,
      },
      (firing) => runBirthdayPromo(firing, w.deps, SETTINGS),
    );
    expect(restart.firing?.attempt).toBe(2);
    const s = restart.result!;
    expect(s.email["confirmed-by-lookup"]).toBeGreaterThan(0);
    expect(s.email["dead-lettered"]).toBe(0);
    const per = w.capture.countByRecipient();
    expect(per.size).toBe(s.eligible - 3);
    expect([...per.values()].every((n) => n === 1)).toBe(true);
    expect(
      await count(
        `SELECT count(*) AS n FROM "${schema}".action_log WHERE action = 'email' AND state <> 'sent'`,
      ),
    ).toBe(0);
  });
});
