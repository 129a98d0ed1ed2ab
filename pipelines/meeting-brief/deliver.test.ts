import { afterEach, describe, expect, it } from "vitest";
import { BadRecordCounters } from "../../operators/dead-letter.js";
import {
  memoryActionLog,
  memorySendAtQueue,
  type Sender,
} from "../../connectors/fanout/index.js";
import {
  smtpSender,
  type EmailMessage,
  type SmtpSender,
} from "../../connectors/smtp/index.js";
import {
  startSmtpCapture,
  type SmtpCapture,
  type SmtpCaptureOptions,
} from "../../connectors/smtp/testing/smtp-capture.js";
import { acceleratedScheduler } from "./clock.js";
import { memoryDeadLetters } from "./dead-letters.js";
import { deliverBriefs } from "./deliver.js";
import { memoryBriefRepo } from "./memory-repo.js";
import { prepareBriefs } from "./prepare.js";
import type { RenderedBrief } from "./types.js";
import { fiveAm, meeting, startWorld, type World } from "./testing/world.js";

const DAY = "2026-11-23";
const AT_0750 = fiveAm(DAY) + (2 * 60 + 50) * 60_000;
const LEASE = 10 * 60_000; // one real second at 600×

let world: World | undefined;
let capture: SmtpCapture | undefined;
let smtp: SmtpSender | undefined;
/** A capture server and an SMTP sender to it, both closed after the test. */
async function startSmtp(
  options?: SmtpCaptureOptions,
): Promise<{ capture: SmtpCapture; smtp: SmtpSender }> {
  const c = (capture = await startSmtpCapture(options));
  const s = (smtp = smtpSender({
    host: c.host,
    port: c.port,
    from: "briefs@sales.example",
  }));
  return { capture: c, smtp: s };
}
afterEach(async () => {
  await smtp?.close();
  await capture?.close();
  await world?.close();
  world = capture = smtp = undefined;
});

/** Three sales people with a meeting each, prepared and queued for 07:50. */
async function prepared(people = 3) {
  const repo = memoryBriefRepo();
  world = await startWorld(repo, { startMs: fiveAm(DAY), people });
  for (const p of world.team)
    meeting(world, p.email!, `m-${p.id}`, {
      day: DAY,
      at: "10:00",
      participants: ["cto@acme.example"],
    });
  const queue = memorySendAtQueue<RenderedBrief>();
  const firing = {
    id: `meeting-brief@${new Date(fiveAm(DAY)).toISOString()}`,
    scheduledMs: fiveAm(DAY),
  };
  await prepareBriefs(firing, {
    job: "meeting-brief",
    repo,
    calendar: world.calendar,
    enrichment: world.enrichment,
    deadLetters: memoryDeadLetters(),
    queue,
    now: world.clock.now,
    timeZone: "America/New_York",
  });
  return { queue, firing };
}

const run = (
  o: Omit<
    Parameters<typeof deliverBriefs>[0],
    "job" | "stopWhenEmpty" | "leaseMs"
  >,
) =>
  deliverBriefs({
    job: "meeting-brief-sender",
    stopWhenEmpty: true,
    leaseMs: LEASE,
    pollMs: 30_000,
    retry: { maxAttempts: 6, baseDelayMs: 1_000, seed: 3 },
    ...o,
  });

describe("deliverBriefs", () => {
  it("sends nothing before 07:50, then one email per sales person over SMTP", async () => {
    const { queue } = await prepared();
    const { capture, smtp } = await startSmtp();
    const deadLetters = memoryDeadLetters();
    const scheduler = acceleratedScheduler(AT_0750 - 5 * 60_000, 600);
    const r = run({
      queue,
      log: memoryActionLog(),
      sender: smtp,
      deadLetters,
      scheduler,
    });
    const summary = await r.done;
    expect(summary).toMatchObject({ sent: 3, deadLettered: 0 });
    expect(scheduler.now()).toBeGreaterThanOrEqual(AT_0750);
    expect([...capture.countByRecipient().entries()].sort()).toEqual([
      ["rep1@sales.example", 1],
      ["rep2@sales.example", 1],
      ["rep3@sales.example", 1],
    ]);
    const m = capture.messages[0]!;
    expect(m.subject).toMatch(
      /^Your meetings for Monday 23 November: 1 meeting, 1 participant$/,
    );
    expect(m.raw).toContain("text/html");
  });

  it("a crash in the middle of a send batch and a rerun: every sales person gets exactly one email", async () => {
    const { queue } = await prepared(5);
    const { capture, smtp } = await startSmtp();
    const log = memoryActionLog();
    const deadLetters = memoryDeadLetters();
    // The first worker dies after SMTP accepted its third email, before it could confirm it.
    let calls = 0;
    const real = smtp;
    const dying: Sender<EmailMessage> = {
      provider: "smtp",
      idempotentByKey: false,
      async send(message, key) {
        calls++;
        const result = await real.send(message, key);
        if (calls === 3) return new Promise(() => undefined); // the process is gone
        return result;
      },
    };
    const first = run({
      queue,
      log,
      sender: dying,
      deadLetters,
      concurrency: 1,
      scheduler: acceleratedScheduler(AT_0750, 600),
    });
    await capture.waitFor(3);
    await first.stop();
    expect(capture.messages).toHaveLength(3);

    // The restarted worker runs after the leases have ended.
    const badRecords = new BadRecordCounters();
    const second = run({
      queue,
      log,
      sender: smtp,
      deadLetters,
      badRecords,
      scheduler: acceleratedScheduler(AT_0750 + 2 * LEASE, 600),
    });
    const summary = await second.done;
    expect([...capture.countByRecipient().values()]).toEqual([1, 1, 1, 1, 1]);
    expect(summary.sent).toBe(2);
    // The unconfirmed one is not sent again and is reported for a human, with the reason.
    expect(deadLetters.rows).toHaveLength(1);
    expect(deadLetters.rows[0]!.reason).toMatch(/never confirmed/);
    // …and counted for /metrics under its code.
    expect(badRecords.deadLettered).toBe(1);
    expect([...badRecords.byCode.keys()]).toEqual([deadLetters.rows[0]!.code]);
    expect(await queue.pending()).toBe(0);
  });

  it("with SMTP refusing 20% of messages (451), every brief is delivered or dead-lettered with a reason", async () => {
    const { queue } = await prepared(8);
    const { capture, smtp } = await startSmtp({
      failure: { rate: 0.2, code: 451 },
      seed: 4,
    });
    const deadLetters = memoryDeadLetters();
    const summary = await run({
      queue,
      log: memoryActionLog(),
      sender: smtp,
      deadLetters,
      scheduler: acceleratedScheduler(AT_0750, 600),
    }).done;
    expect(capture.refused).toBeGreaterThan(0);
    expect(summary.sent + summary.deadLettered).toBe(8);
    expect(capture.messages).toHaveLength(summary.sent);
    for (const d of deadLetters.rows) expect(d.reason).toMatch(/451|smtp/i);
    expect(new Set(capture.messages.map((m) => m.to[0])).size).toBe(
      summary.sent,
    );
  });

  it("a rerun after everything was sent sends nothing", async () => {
    const { queue, firing } = await prepared(2);
    const { capture, smtp } = await startSmtp();
    const log = memoryActionLog();
    await run({
      queue,
      log,
      sender: smtp,
      deadLetters: memoryDeadLetters(),
      scheduler: acceleratedScheduler(AT_0750, 600),
    }).done;
    // the 05:00 run is repeated (a retried CronJob): nothing new is queued or sent
    const again = await queue.enqueue([
      {
        id: `${firing.id}/brief-email/sales-person/1`,
        dueAt: AT_0750,
        payload: {} as RenderedBrief,
      },
    ]);
    expect(again).toBe(0);
    const s = await run({
      queue,
      log,
      sender: smtp,
      deadLetters: memoryDeadLetters(),
      scheduler: acceleratedScheduler(AT_0750 + 60_000, 600),
    }).done;
    expect(s.sent).toBe(0);
    expect(capture.messages).toHaveLength(2);
    expect((await log.listFiring(firing.id)).map((e) => e.state)).toEqual([
      "sent",
      "sent",
    ]);
  });
});
