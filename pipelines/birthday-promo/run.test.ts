import { asyncScheduler } from "rxjs";
import { afterEach, describe, expect, it } from "vitest";
import { generateUsers } from "./fixtures.js";
import { promoInstant, runOnceFiring } from "./firing.js";
import {
  runBirthdayPromo,
  DEFAULT_SETTINGS,
  type PromoSummary,
} from "./run.js";
import { startLocalWorld, type LocalWorld } from "./wiring.js";

const SETTINGS = {
  ...DEFAULT_SETTINGS,
  retry: { maxAttempts: 6, baseDelayMs: 2, maxDelayMs: 20 },
  leaseMs: 1_000,
};
let world: LocalWorld | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

async function fire(
  w: LocalWorld,
  day: string,
  offsetMs = 5_000,
): Promise<PromoSummary | undefined> {
  const { result } = await runOnceFiring(
    {
      job: "birthday-promo",
      store: w.firings,
      nowMs: promoInstant(day) + offsetMs,
      scheduler: asyncScheduler,
    },
    (firing) => runBirthdayPromo(firing, w.deps, SETTINGS),
  );
  return result;
}

describe("birthday promo on the embedded default", () => {
  it("creates one promo with its eligibilities, sends one email and one WhatsApp per user, reports bad rows", async () => {
    world = await startLocalWorld();
    const day = "2026-11-22";
    const users = generateUsers({ count: 300, seed: 11, day });
    await world.deps.users.insert(users);
    const s = (await fire(world, day))!;
    expect(s.firingId).toBe("birthday-promo@2026-11-21T17:01:00.000Z");
    expect(s.promo.created).toBe(true);
    expect(s.eligibilitiesCreated).toBe(s.eligible);
    expect(s.eligible).toBeGreaterThan(10);
    // bad rows: 3 missing emails, 3 invalid birth dates, 3 bad phones, each with a reason
    expect(
      s.badRows.filter((b) => b.scope === "email").map((b) => b.reason),
    ).toEqual(Array(3).fill("email is missing"));
    expect(s.badRows.filter((b) => b.scope === "user")).toHaveLength(3);
    expect(s.badRows.filter((b) => b.scope === "whatsapp")).toHaveLength(3);
    expect(
      world.deadLetters.rows.filter((r) => r.stage === "validate"),
    ).toHaveLength(9);
    // exactly one email per eligible user with an email
    const perRecipient = world.capture.countByRecipient();
    expect(perRecipient.size).toBe(s.email.sent);
    expect([...perRecipient.values()].every((n) => n === 1)).toBe(true);
    expect(s.email.sent).toBe(s.eligible - 3);
    expect(world.whatsapp.accepted.length).toBe(s.whatsapp.sent);
    expect(world.capture.messages[0]?.headers.get("x-promo-id")).toBe(
      s.promo.id,
    );
    expect(world.capture.messages[0]?.body).toContain(s.promo.code);
  });

  it("a rerun of the same day creates nothing twice and sends nothing twice", async () => {
    world = await startLocalWorld();
    const day = "2026-11-22";
    await world.deps.users.insert(generateUsers({ count: 200, seed: 5, day }));
    const first = (await fire(world, day))!;
    const emails = world.capture.messages.length;
    const was = world.whatsapp.accepted.length;
    // the CronJob started again for the same instant: the firing id says it is done
    expect(await fire(world, day, 60_000)).toBeUndefined();
    // forced rerun of the same firing (an operator's manual run): the stores and the action log hold
    const deps = world.deps;
    const { result: again } = await runOnceFiring(
      {
        job: "birthday-promo-manual",
        store: world.firings,
        nowMs: promoInstant(day) + 5_000,
        scheduler: asyncScheduler,
      },
      (firing) =>
        runBirthdayPromo({ ...firing, id: first.firingId }, deps, SETTINGS),
    );
    if (again === undefined) throw new Error("the manual firing did not run");
    expect(again.promo).toEqual({ ...first.promo, created: false });
    expect(again.eligibilitiesCreated).toBe(0);
    expect(again.email.sent).toBe(0);
    expect(again.email["already-sent"]).toBe(first.email.sent);
    expect(again.whatsapp["already-sent"]).toBe(first.whatsapp.sent);
    expect(world.capture.messages.length).toBe(emails);
    expect(world.whatsapp.accepted.length).toBe(was);
  });

  it("with the WhatsApp simulator failing 20% of calls, every message is delivered or dead-lettered with a reason", async () => {
    world = await startLocalWorld({
      whatsappFailureRate: 0.2,
      smtpFailureRate: 0.2,
      seed: 3,
    });
    const day = "2026-11-22";
    await world.deps.users.insert(generateUsers({ count: 400, seed: 9, day }));
    const s = (await fire(world, day))!;
    expect(world.whatsapp.failed).toBeGreaterThan(0);
    expect(world.capture.refused).toBeGreaterThan(0);
    const withPhone = s.whatsapp.sent + s.whatsapp["dead-lettered"];
    expect(world.whatsapp.accepted.length).toBe(s.whatsapp.sent);
    expect(
      [...world.whatsapp.countByRecipient().values()].every((n) => n === 1),
    ).toBe(true);
    expect(
      [...world.capture.countByRecipient().values()].every((n) => n === 1),
    ).toBe(true);
    expect(s.email.sent + s.email["dead-lettered"]).toBe(s.eligible - 3);
    for (const f of s.failedSends) expect(f.reason).not.toBe("");
    const rows = await world.log.listFiring(s.actionScope);
    expect(rows.filter((r) => r.action === "whatsapp").length).toBe(withPhone);
    expect(rows.every((r) => r.state === "sent" || r.state === "failed")).toBe(
      true,
    );
  });

  it("29 February birthdays are celebrated on 28 February in non-leap years, on the 29th in leap years", async () => {
    world = await startLocalWorld();
    await world.deps.users.insert([
      {
        id: "leap",
        name: "Leap",
        email: "leap@example.com",
        phone: null,
        birthDate: "2000-02-29",
        verified: true,
      },
      {
        id: "feb28",
        name: "Feb",
        email: "feb28@example.com",
        phone: null,
        birthDate: "1999-02-28",
        verified: true,
      },
      {
        id: "unverified",
        name: "U",
        email: "u@example.com",
        phone: null,
        birthDate: "2000-02-29",
        verified: false,
      },
    ]);
    const y2027 = (await fire(world, "2027-02-28"))!;
    expect(y2027.eligible).toBe(2);
    const y2028a = (await fire(world, "2028-02-28"))!;
    expect(y2028a.eligible).toBe(1); // only feb28
    const y2028b = (await fire(world, "2028-02-29"))!;
    expect(y2028b.eligible).toBe(1); // only leap
    expect(world.capture.countByRecipient().get("leap@example.com")).toBe(2);
    expect(
      world.capture.countByRecipient().get("u@example.com"),
    ).toBeUndefined();
  });
});
