// meeting-brief end to end on the real stack: PostgreSQL for every store (the pipeline's
// tables, action log, send-at queue, firing records, dead letters) and real SMTP to an
// in-process capture server.
import { describe, expect, it } from "vitest";
import type { EmailMessage } from "../../connectors/smtp/index.js";
import { smtpSender } from "../../connectors/smtp/index.js";
import type { Sender } from "../../connectors/fanout/index.js";
import { startSmtpCapture } from "../../connectors/smtp/testing/smtp-capture.js";
import { acceleratedScheduler } from "./clock.js";
import { recordingDeadLetters } from "./dead-letters.js";
import { runScenario } from "./demo.js";
import { deliverBriefs } from "./deliver.js";
import { prepareBriefs } from "./prepare.js";
import { fiveAm, meeting, startWorld, TEAM_ZONE } from "./testing/world.js";
import { postgresStores } from "./wiring.js";
import { postgresFixture } from "./testing/postgres-fixture.js";

const pg = postgresFixture("mb_it");

describe("meeting-brief on PostgreSQL and SMTP", () => {
  it("two mornings with simulators and SMTP failing 20%: everything delivered or dead-lettered, incremental second sync, retention", async () => {
    const schema = pg.freshSchema();
    const stores = await postgresStores(pg.db, schema, "meeting-brief");
    const r = await runScenario(stores, {
      people: 3,
      seed: 21,
      failureRate: 0.2,
      smtpFailureRate: 0.2,
    });
    const [d1, d2] = r.mornings;
    expect(d1!.prepared.fullResyncs).toBe(3);
    expect(d2!.prepared).toMatchObject({ fullResyncs: 0, calendarsSynced: 3 });
    expect(d2!.prepared.eventsFetched).toBeLessThan(d1!.prepared.eventsFetched);
    expect(d2!.prepared.participantsFromDb).toBeGreaterThan(0);
    for (const m of r.mornings)
      expect(m.delivered.sent + m.delivered.deadLettered).toBe(
        m.prepared.briefsQueued,
      );
    expect(r.emails).toBe(d1!.delivered.sent + d2!.delivered.sent);
    // what the stores say, read back from PostgreSQL
    const sent = await pg.db.pool.query(
      `SELECT count(*)::int AS n FROM "${schema}".action_log WHERE state = 'sent'`,
    );
    expect((sent.rows[0] as { n: number }).n).toBe(r.emails);
    const dl = await pg.db.pool.query(
      `SELECT record_key, reason FROM "${schema}".dead_letters ORDER BY record_key`,
    );
    // one row per (job, stage, key): a participant failing on both mornings is one row
    expect(dl.rows.length).toBeGreaterThan(0);
    expect(dl.rows.length).toBeLessThanOrEqual(r.deadLetters.length);
    expect(
      dl.rows.some((x: { reason: string }) => /no valid email/.test(x.reason)),
    ).toBe(true);
    const runs = await pg.db.pool.query(
      `SELECT firing_id, summary FROM "${schema}".brief_runs ORDER BY firing_id`,
    );
    expect(runs.rows.map((x: { firing_id: string }) => x.firing_id)).toEqual(
      r.mornings.map((m) => m.firingId),
    );
    expect(r.retention.participants).toBeGreaterThan(0);
    const left = await pg.db.pool.query(
      `SELECT count(*)::int AS n FROM "${schema}".participants`,
    );
    // day 1's participants are 30 days old at the retention and go; day 2's are 29 and stay
    expect((left.rows[0] as { n: number }).n).toBe(
      d2!.prepared.participantsFromApi,
    );
  });

  it("a crash in the middle of a send batch and a rerun: every sales person gets exactly one email", async () => {
    const schema = pg.freshSchema();
    const stores = await postgresStores(pg.db, schema, "meeting-brief");
    const deadLetters = recordingDeadLetters(stores.deadLetters);
    const day = "2026-11-23";
    const world = await startWorld(stores.repo, {
      startMs: fiveAm(day),
      people: 5,
    });
    const capture = await startSmtpCapture();
    const smtp = smtpSender({
      host: capture.host,
      port: capture.port,
      from: "briefs@sales.example",
    });
    try {
      for (const p of world.team)
        meeting(world, p.email!, `m-${p.id}`, {
          day,
          at: "11:00",
          participants: ["cto@acme.example"],
        });
      const firing = {
        id: `meeting-brief@${new Date(fiveAm(day)).toISOString()}`,
        scheduledMs: fiveAm(day),
      };
      const deps = {
        job: "meeting-brief",
        repo: stores.repo,
        calendar: world.calendar,
        enrichment: world.enrichment,
        deadLetters,
        queue: stores.queue,
        now: world.clock.now,
        timeZone: TEAM_ZONE,
      };
      expect((await prepareBriefs(firing, deps)).briefsQueued).toBe(5);
      expect((await prepareBriefs(firing, deps)).briefsQueued).toBe(5); // a retried 05:00 run
      expect(await stores.queue.pending()).toBe(5);

      const at0750 = fiveAm(day) + 170 * 60_000;
      const lease = 10 * 60_000;
      let calls = 0;
      const dying: Sender<EmailMessage> = {
        provider: "smtp",
        idempotentByKey: false,
        async send(message, key) {
          calls++;
          if (calls === 3) return new Promise(() => undefined); // dies before handing the third over
          return smtp.send(message, key);
        },
      };
      const first = deliverBriefs({
        job: "meeting-brief-sender",
        queue: stores.queue,
        log: stores.log,
        sender: dying,
        deadLetters,
        concurrency: 1,
        leaseMs: lease,
        stopWhenEmpty: true,
        scheduler: acceleratedScheduler(at0750, 600),
      });
      await capture.waitFor(2);
      while (calls < 3) await new Promise((resolve) => setTimeout(resolve, 10));
      await first.stop();
      expect(capture.messages).toHaveLength(2);

      // The crashed attempt never reached SMTP; the capture server can say so by Message-ID
      // (a provider lookup), so the rerun sends it instead of leaving it unknown.
      const restarted = smtpSender({
        host: capture.host,
        port: capture.port,
        from: "briefs@sales.example",
        lookup: (id) => capture.lookup(id),
      });
      const second = deliverBriefs({
        job: "meeting-brief-sender",
        queue: stores.queue,
        log: stores.log,
        sender: restarted,
        deadLetters,
        leaseMs: lease,
        stopWhenEmpty: true,
        scheduler: acceleratedScheduler(at0750 + 2 * lease, 600),
      });
      const summary = await second.done;
      await restarted.close();
      expect(summary.sent).toBe(3);
      expect([...capture.countByRecipient().values()]).toEqual([1, 1, 1, 1, 1]);
      expect(
        [...capture.countByMessageId().values()].every((c) => c === 1),
      ).toBe(true);
      expect(deadLetters.rows).toHaveLength(0);
      expect(await stores.queue.pending()).toBe(0);
      const states = await stores.log.listFiring(firing.id);
      expect(states.map((s) => s.state)).toEqual([
        "sent",
        "sent",
        "sent",
        "sent",
        "sent",
      ]);
    } finally {
      await smtp.close();
      await capture.close();
      await world.close();
    }
  });
});
