import { describe, expect, it } from "vitest";
import type { Record } from "../../operators/record.js";
import { SluiceError } from "../../operators/sluice-error.js";
import { CronCalendar, firingId } from "./calendar.js";
import {
  scheduleSource,
  type Firing,
  type ScheduleSourceOptions,
} from "./source.js";
import { memoryFiringStore, type FiringStore } from "./store.js";
import { ManualClock } from "./testing/manual-clock.js";

const at = (iso: string): number => Date.parse(iso);
const iso = (ms: number): string => new Date(ms).toISOString();

/** Subscribes, acks every firing at once (or keeps them when `hold`), returns what came. */
function run(
  options: Omit<ScheduleSourceOptions, "scheduler" | "store"> & {
    store?: FiringStore;
  },
  clock: ManualClock,
  hold = false,
) {
  const store = options.store ?? memoryFiringStore();
  const source = scheduleSource({ ...options, store, scheduler: clock });
  const seen: Record<Firing>[] = [];
  let completed = false;
  const sub = source.records().subscribe({
    next: (r) => {
      seen.push(r);
      if (!hold) r.ack.ack();
    },
    complete: () => {
      completed = true;
    },
  });
  return {
    source,
    store,
    seen,
    ids: () => seen.map((r) => r.value.id),
    instants: () => seen.map((r) => iso(r.value.scheduledAt)),
    completed: () => completed,
    stop: async () => {
      for (const h of seen) if (!h.ack.settled) h.ack.ack();
      await clock.settle();
      await source.close();
      sub.unsubscribe();
    },
  };
}

describe("CronCalendar across daylight-saving changes", () => {
  it("shift: a 02:30 Berlin firing on the spring-forward day runs once at 03:00 CEST", () => {
    const cal = new CronCalendar({
      cron: "30 2 * * *",
      timeZone: "Europe/Berlin",
    });
    const got = cal
      .between(at("2026-03-27T12:00:00Z"), at("2026-03-30T12:00:00Z"))
      .map((i) => iso(i.at));
    expect(got).toEqual([
      "2026-03-28T01:30:00.000Z", // 02:30 CET
      "2026-03-29T01:00:00.000Z", // 02:30 does not exist: 03:00 CEST
      "2026-03-30T00:30:00.000Z", // 02:30 CEST
    ]);
  });

  it("shift: a 02:30 Berlin firing on the fall-back day runs once, at the first 02:30 (CEST)", () => {
    const cal = new CronCalendar({
      cron: "30 2 * * *",
      timeZone: "Europe/Berlin",
    });
    const got = cal
      .between(at("2026-10-24T12:00:00Z"), at("2026-10-26T12:00:00Z"))
      .map((i) => iso(i.at));
    expect(got).toEqual([
      "2026-10-25T00:30:00.000Z",
      "2026-10-26T01:30:00.000Z",
    ]);
  });

  it("shift: a 01:30 New York firing on the fall-back day runs once, at 01:30 EDT", () => {
    const cal = new CronCalendar({
      cron: "30 1 * * *",
      timeZone: "America/New_York",
    });
    const got = cal
      .between(at("2026-10-31T12:00:00Z"), at("2026-11-02T12:00:00Z"))
      .map((i) => iso(i.at));
    expect(got).toEqual([
      "2026-11-01T05:30:00.000Z",
      "2026-11-02T06:30:00.000Z",
    ]);
  });

  it("skip-gap: the 02:30 New York firing on the spring-forward day is marked skipped", () => {
    const cal = new CronCalendar({
      cron: "30 2 * * *",
      timeZone: "America/New_York",
      daylightSaving: "skip-gap",
    });
    const got = cal.between(
      at("2026-03-07T12:00:00Z"),
      at("2026-03-09T12:00:00Z"),
    );
    expect(got).toEqual([
      { at: at("2026-03-08T07:00:00Z"), skip: "dst-gap" },
      { at: at("2026-03-09T06:30:00.000Z") },
    ]);
  });

  it("interval patterns fire on both passes of the repeated hour, with distinct ids", () => {
    const cal = new CronCalendar({
      cron: "0,30 1 * * *",
      timeZone: "America/New_York",
    });
    const got = cal.between(
      at("2026-11-01T04:00:00Z"),
      at("2026-11-01T07:00:00Z"),
    );
    expect(got.map((i) => firingId("j", i.at))).toEqual([
      "j@2026-11-01T05:00:00.000Z",
      "j@2026-11-01T05:30:00.000Z",
      "j@2026-11-01T06:00:00.000Z",
      "j@2026-11-01T06:30:00.000Z",
    ]);
  });

  it("names the bad field", () => {
    expect(
      () => new CronCalendar({ cron: "61 * * * *", timeZone: "UTC" }),
    ).toThrow(/schedule.cron/);
    expect(
      () => new CronCalendar({ cron: "* * * * *", timeZone: "Mars/Olympus" }),
    ).toThrow(/schedule.timeZone/);
  });
});

describe("scheduleSource in virtual time", () => {
  it("fires at each scheduled instant across the Berlin spring-forward night, ids deterministic", async () => {
    const clock = new ManualClock(at("2026-03-27T12:00:00Z"));
    const r = run(
      { job: "nightly", cron: "30 2 * * *", timeZone: "Europe/Berlin" },
      clock,
    );
    await clock.advanceTo(at("2026-03-30T12:00:00Z"));
    expect(r.ids()).toEqual([
      "nightly@2026-03-28T01:30:00.000Z",
      "nightly@2026-03-29T01:00:00.000Z",
      "nightly@2026-03-30T00:30:00.000Z",
    ]);
    expect(r.seen.map((s) => s.value.localTime)).toEqual([
      "2026-03-28T02:30:00.000+01:00",
      "2026-03-29T03:00:00.000+02:00",
      "2026-03-30T02:30:00.000+02:00",
    ]);
    expect((await r.store.list("nightly")).map((e) => e.status)).toEqual([
      "done",
      "done",
      "done",
    ]);
    await r.stop();
  });

  it("fires once on the New York fall-back night and records the skip-gap day as skipped", async () => {
    const clock = new ManualClock(at("2026-10-31T12:00:00Z"));
    const r = run(
      {
        job: "ny",
        cron: "30 1 * * *",
        timeZone: "America/New_York",
        daylightSaving: "skip-gap",
      },
      clock,
    );
    await clock.advanceTo(at("2026-11-02T12:00:00Z"));
    expect(r.instants()).toEqual([
      "2026-11-01T05:30:00.000Z",
      "2026-11-02T06:30:00.000Z",
    ]);
    await r.stop();

    const spring = new ManualClock(at("2027-03-13T12:00:00Z"));
    const s = run(
      {
        job: "ny2",
        cron: "30 2 * * *",
        timeZone: "America/New_York",
        daylightSaving: "skip-gap",
      },
      spring,
    );
    await spring.advanceTo(at("2027-03-15T12:00:00Z"));
    expect(s.instants()).toEqual(["2027-03-15T06:30:00.000Z"]);
    const rows = await s.store.list("ny2");
    expect(rows.map((e) => [iso(e.scheduledAt), e.status, e.reason])).toEqual([
      ["2027-03-14T07:00:00.000Z", "skipped", "dst-gap"],
      ["2027-03-15T06:30:00.000Z", "done", undefined],
    ]);
    await s.stop();
  });

  it("catches up every missed firing after downtime, up to the limit, and records the rest as skipped", async () => {
    const store = memoryFiringStore();
    const clock = new ManualClock(at("2026-06-01T00:10:00Z"));
    const first = run(
      { job: "hourly", cron: "0 * * * *", timeZone: "UTC", store },
      clock,
    );
    await clock.advanceTo(at("2026-06-01T02:10:00Z"));
    expect(first.instants()).toEqual([
      "2026-06-01T01:00:00.000Z",
      "2026-06-01T02:00:00.000Z",
    ]);
    await first.stop();

    // down from 02:10 to 07:30: 03:00 … 07:00 missed (5 firings); keep the newest 3
    await clock.advanceTo(at("2026-06-01T07:30:00Z"));
    const second = run(
      {
        job: "hourly",
        cron: "0 * * * *",
        timeZone: "UTC",
        store,
        catchUp: { policy: "all", maxFirings: 3 },
      },
      clock,
    );
    await clock.advanceTo(at("2026-06-01T08:00:00Z"));
    expect(second.instants()).toEqual([
      "2026-06-01T05:00:00.000Z",
      "2026-06-01T06:00:00.000Z",
      "2026-06-01T07:00:00.000Z",
      "2026-06-01T08:00:00.000Z",
    ]);
    expect(second.seen.map((s) => s.value.late)).toEqual([
      true,
      true,
      true,
      false,
    ]);
    expect(second.source.stats.caughtUp).toBe(3);
    const skipped = (await store.list("hourly")).filter(
      (e) => e.status === "skipped",
    );
    expect(skipped.map((e) => iso(e.scheduledAt))).toEqual([
      "2026-06-01T03:00:00.000Z",
      "2026-06-01T04:00:00.000Z",
    ]);
    expect(skipped[0]?.reason).toMatch(/catch-up/);
    await second.stop();
  });

  it("catch-up latest runs only the newest missed firing", async () => {
    const store = memoryFiringStore();
    await store.begin(
      {
        job: "l",
        id: firingId("l", at("2026-06-01T00:00:00Z")),
        scheduledAt: at("2026-06-01T00:00:00Z"),
      },
      0,
    );
    await store.finish(
      {
        job: "l",
        id: firingId("l", at("2026-06-01T00:00:00Z")),
        scheduledAt: at("2026-06-01T00:00:00Z"),
      },
      "done",
      0,
    );
    const clock = new ManualClock(at("2026-06-01T05:30:00Z"));
    const r = run(
      { job: "l", cron: "0 * * * *", timeZone: "UTC", store },
      clock,
    );
    await clock.advanceTo(at("2026-06-01T05:40:00Z"));
    expect(r.instants()).toEqual(["2026-06-01T05:00:00.000Z"]);
    expect(r.source.stats.skipped).toBe(4);
    await r.stop();
  });

  it("re-runs a firing that started and never finished (a crash), as attempt 2", async () => {
    const store = memoryFiringStore();
    const clock = new ManualClock(at("2026-06-01T00:30:00Z"));
    const a = run(
      { job: "c", cron: "0 * * * *", timeZone: "UTC", store },
      clock,
      true,
    );
    await clock.advanceTo(at("2026-06-01T01:00:00Z"));
    expect(a.ids()).toEqual(["c@2026-06-01T01:00:00.000Z"]);
    a.source.close().catch(() => undefined); // crash: the firing is never acked
    const b = run(
      { job: "c", cron: "0 * * * *", timeZone: "UTC", store },
      clock,
    );
    await clock.advanceTo(at("2026-06-01T01:10:00Z"));
    expect(b.ids()).toEqual(["c@2026-06-01T01:00:00.000Z"]);
    expect(b.seen[0]?.value.attempt).toBe(2);
    expect((await store.get("c", at("2026-06-01T01:00:00Z")))?.status).toBe(
      "done",
    );
    await b.stop();
  });

  it("overlap skip: a firing due while the previous one runs is recorded as skipped", async () => {
    const clock = new ManualClock(at("2026-06-01T00:30:00Z"));
    const r = run(
      { job: "o", cron: "0 * * * *", timeZone: "UTC", overlap: "skip" },
      clock,
      true,
    );
    await clock.advanceTo(at("2026-06-01T03:30:00Z"));
    expect(r.ids()).toEqual(["o@2026-06-01T01:00:00.000Z"]);
    r.seen[0]!.ack.ack();
    await clock.advanceTo(at("2026-06-01T04:00:00Z"));
    expect(r.ids()).toEqual([
      "o@2026-06-01T01:00:00.000Z",
      "o@2026-06-01T04:00:00.000Z",
    ]);
    const rows = await r.store.list("o");
    expect(
      rows.filter((e) => e.status === "skipped").map((e) => e.reason),
    ).toEqual([
      expect.stringMatching(/overlap/),
      expect.stringMatching(/overlap/),
    ]);
    await r.stop();
  });

  it("overlap queue-one: one firing waits for the running one, later ones are skipped", async () => {
    const clock = new ManualClock(at("2026-06-01T00:30:00Z"));
    const r = run(
      { job: "q", cron: "0 * * * *", timeZone: "UTC", overlap: "queue-one" },
      clock,
      true,
    );
    await clock.advanceTo(at("2026-06-01T03:30:00Z"));
    expect(r.ids()).toEqual(["q@2026-06-01T01:00:00.000Z"]);
    r.seen[0]!.ack.ack();
    await clock.settle();
    expect(r.ids()).toEqual([
      "q@2026-06-01T01:00:00.000Z",
      "q@2026-06-01T02:00:00.000Z",
    ]);
    expect(r.source.stats.skipped).toBe(1); // 03:00
    await r.stop();
  });

  it("a nacked firing is recorded failed with the reason and runs again on the next start", async () => {
    const store = memoryFiringStore();
    const clock = new ManualClock(at("2026-06-01T00:30:00Z"));
    const a = run(
      { job: "n", cron: "0 * * * *", timeZone: "UTC", store },
      clock,
      true,
    );
    await clock.advanceTo(at("2026-06-01T01:00:00Z"));
    a.seen[0]!.ack.nack(
      new SluiceError("UNAVAILABLE", "database down", { retryable: true }),
    );
    await clock.settle();
    expect((await store.get("n", at("2026-06-01T01:00:00Z")))?.reason).toMatch(
      /database down/,
    );
    await a.stop();
    const b = run(
      { job: "n", cron: "0 * * * *", timeZone: "UTC", store },
      clock,
    );
    await clock.settle();
    expect(b.ids()).toEqual(["n@2026-06-01T01:00:00.000Z"]);
    await b.stop();
  });
});

describe("scheduleSource run-once (K3s CronJob)", () => {
  const jakarta = {
    job: "promo",
    cron: "1 0 * * *",
    timeZone: "Asia/Jakarta",
    mode: "run-once" as const,
  };

  it("runs the firing it was started for and completes", async () => {
    const store = memoryFiringStore();
    const clock = new ManualClock(at("2026-11-21T17:01:07Z")); // 00:01:07 WIB
    const r = run({ ...jakarta, store }, clock);
    await clock.settle();
    expect(r.ids()).toEqual(["promo@2026-11-21T17:01:00.000Z"]);
    expect(r.seen[0]?.value.localDate).toBe("2026-11-22");
    expect(r.completed()).toBe(true);
  });

  it("a second start for the same instant is a detected duplicate and emits nothing", async () => {
    const store = memoryFiringStore();
    const clock = new ManualClock(at("2026-11-21T17:01:07Z"));
    run({ ...jakarta, store }, clock);
    await clock.settle();
    await clock.advanceBy(60_000);
    const again = run({ ...jakarta, store }, clock);
    await clock.settle();
    expect(again.seen).toEqual([]);
    expect(again.source.stats.duplicates).toBe(1);
    expect(again.completed()).toBe(true);
  });

  it("started later than the tolerance, it runs nothing and says so", async () => {
    const clock = new ManualClock(at("2026-11-21T18:30:00Z"));
    const r = run({ ...jakarta, toleranceMs: 15 * 60_000 }, clock);
    await clock.settle();
    expect(r.seen).toEqual([]);
    expect(r.source.stats.noFiring).toBe(1);
    expect(r.completed()).toBe(true);
  });
});
