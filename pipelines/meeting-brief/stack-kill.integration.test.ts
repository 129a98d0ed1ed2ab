// SIGKILL of a real sender process in the middle of a send batch, then a restarted sender:
// every sales person gets exactly one email (PostgreSQL action log and queue, real SMTP).
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { smtpSender } from "../../connectors/smtp/index.js";
import { startSmtpCapture } from "../../connectors/smtp/testing/smtp-capture.js";
import { acceleratedScheduler } from "./clock.js";
import { recordingDeadLetters } from "./dead-letters.js";
import { deliverBriefs } from "./deliver.js";
import { prepareBriefs } from "./prepare.js";
import { fiveAm, meeting, startWorld, TEAM_ZONE } from "./testing/world.js";
import { postgresStores } from "./wiring.js";
import { postgresFixture } from "./testing/postgres-fixture.js";

const pg = postgresFixture("mb_kill");
const schema = pg.freshSchema();

describe("meeting-brief sender killed mid-batch", () => {
  it("SIGKILL after some sends, restart: every sales person gets exactly one email", async () => {
    const stores = await postgresStores(pg.db, schema, "meeting-brief");
    const day = "2026-11-23";
    const world = await startWorld(stores.repo, {
      startMs: fiveAm(day),
      people: 6,
    });
    const capture = await startSmtpCapture();
    try {
      for (const p of world.team)
        meeting(world, p.email!, `k-${p.id}`, {
          day,
          at: "13:00",
          participants: ["cfo@globex.example"],
        });
      const deadLetters = recordingDeadLetters(stores.deadLetters);
      const firing = {
        id: `meeting-brief@${new Date(fiveAm(day)).toISOString()}`,
        scheduledMs: fiveAm(day),
      };
      await prepareBriefs(firing, {
        job: "meeting-brief",
        repo: stores.repo,
        calendar: world.calendar,
        enrichment: world.enrichment,
        deadLetters,
        queue: stores.queue,
        now: world.clock.now,
        timeZone: TEAM_ZONE,
      });
      const at0750 = fiveAm(day) + 170 * 60_000;

      const child = spawn(
        process.execPath,
        [
          fileURLToPath(
            new URL(
              "../../node_modules/vite-node/vite-node.mjs",
              import.meta.url,
            ),
          ),
          fileURLToPath(new URL("./testing/sender-child.ts", import.meta.url)),
        ],
        {
          env: {
            ...process.env,
            DATABASE_URL: pg.databaseUrl,
            MB_SCHEMA: schema,
            MB_SMTP_PORT: String(capture.port),
            MB_START_MS: String(at0750),
          },
          stdio: ["ignore", "pipe", "pipe"],
        },
      );
      let stderr = "";
      child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<NodeJS.Signals | null>((resolve) =>
        child.on("exit", (_code, signal) => resolve(signal)),
      );
      await Promise.race([
        capture.waitFor(2),
        exited.then(() => {
          throw new Error(`sender child exited before sending: ${stderr}`);
        }),
      ]);
      child.kill("SIGKILL");
      expect(await exited).toBe("SIGKILL");
      const before = capture.messages.length;
      expect(before).toBeGreaterThanOrEqual(2);
      expect(before).toBeLessThan(6);

      // The restarted sender runs after the dead one's leases; the capture server answers the
      // lookup by Message-ID, so an attempt cut off by the kill is neither lost nor repeated.
      const smtp = smtpSender({
        host: capture.host,
        port: capture.port,
        from: "briefs@sales.example",
        lookup: (id) => capture.lookup(id),
      });
      const summary = await deliverBriefs({
        job: "meeting-brief-sender",
        queue: stores.queue,
        log: stores.log,
        sender: smtp,
        deadLetters,
        leaseMs: 600_000,
        stopWhenEmpty: true,
        scheduler: acceleratedScheduler(at0750 + 3_600_000, 600),
      }).done;
      await smtp.close();
      expect(summary.sent + summary.alreadySent).toBeGreaterThanOrEqual(
        6 - before,
      );
      expect([...capture.countByRecipient().values()]).toEqual([
        1, 1, 1, 1, 1, 1,
      ]);
      expect(deadLetters.rows).toHaveLength(0);
      expect(
        (await stores.log.listFiring(firing.id)).every(
          (e) => e.state === "sent",
        ),
      ).toBe(true);
      expect(await stores.queue.pending()).toBe(0);
    } finally {
      await capture.close();
      await world.close();
    }
  });
});
