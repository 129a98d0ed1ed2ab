import { describe, expect, it } from "vitest";
import { MemoryLog } from "../../connectors/memory/index.js";
import { SluiceError } from "../../operators/sluice-error.js";
import { memoryActionLog } from "./action-log.js";
import { outreachCodecs } from "./avro.js";
import { DEMO_SEGMENTS, startOutreachSystem } from "./system.js";
import { embeddedTransport } from "./transport.js";
import { DEFAULT_TOPICS, firingAt } from "./types.js";

const HOUR = Date.UTC(2026, 0, 5, 11);

function deadLetters(log: MemoryLog) {
  const out = [];
  for (let p = 0; p < 4; p++)
    for (const r of log.read(DEFAULT_TOPICS.deadLetters, p, 0, 100_000))
      out.push(outreachCodecs().deadLetter.decode(r.value as Buffer));
  return out;
}

describe("outreach under faults (embedded)", () => {
  it("crash in the middle of a send batch, then a restart: every job gets exactly one email", async () => {
    const log = new MemoryLog();
    let calls = 0;
    let dead = false;
    const ref: {
      crash?: () => Promise<void>;
      crashed?: Promise<void> | undefined;
    } = {};
    const sys = await startOutreachSystem({
      transport: embeddedTransport(log, DEFAULT_TOPICS),
      actionLog: memoryActionLog(),
      segments: DEMO_SEGMENTS(600, 3),
      pageSize: 100,
      sendBatch: 40, // three outreach calls per page
      wrapOutreach: (client) => ({
        async send(emails) {
          if (dead) throw new SluiceError("CLOSED", "sender process is dead");
          const answers = await client.send(emails);
          calls++;
          if (calls === 4) {
            // Sent, not yet confirmed, in the middle of a page: the process dies here.
            dead = true;
            // Not awaited: a killed process does not wait for its consumer to leave.
            ref.crashed = ref.crash?.();
            throw new SluiceError("CLOSED", "sender process killed");
          }
          return answers;
        },
      }),
    });
    ref.crash = () => sys.crashSender();
    try {
      const firing = firingAt("outreach-planner", HOUR);
      await sys.plan(firing);
      await waitFor(() => dead);
      await ref.crashed;
      const before = sys.outreachService.sent;
      expect(before).toBeGreaterThan(0);
      expect(before).toBeLessThan(600);
      dead = false;
      sys.startSender();
      const counts = await sys.settled(firing.id, 600);
      expect(counts.DELIVERED).toBe(600);
      expect(sys.outreachService.sent).toBe(600);
      expect(sys.outreachService.perRecipient.size).toBe(600);
      expect(
        [...sys.outreachService.perRecipient.values()].every((n) => n === 1),
      ).toBe(true);
      expect(sys.senderStats.replayed).toBeGreaterThan(0);
    } finally {
      await sys.close();
    }
  });

  it("simulators failing 20% of calls: every job is delivered or dead-lettered with a reason, none twice", async () => {
    const log = new MemoryLog();
    const sys = await startOutreachSystem({
      transport: embeddedTransport(log, DEFAULT_TOPICS),
      actionLog: memoryActionLog(),
      segments: DEMO_SEGMENTS(600, 3),
      pageSize: 100,
      sendBatch: 20,
      failureRate: 0.2,
      lostAnswerRate: 0.1,
      retry: { attempts: 10, initialBackoffMs: 1, maxBackoffMs: 10 },
      // Two attempts only for sends: about one call in twenty-five runs out and is dead-lettered.
      outreachRetry: { attempts: 2, initialBackoffMs: 1, maxBackoffMs: 5 },
    });
    try {
      const firing = firingAt("outreach-planner", HOUR);
      await sys.plan(firing);
      const counts = await sys.settled(firing.id, 600);
      expect(counts.DELIVERED + counts.DEAD).toBe(600);
      expect(counts.FAILED).toBe(0);
      const letters = deadLetters(log);
      // A DEAD whose answer was lost can still be DELIVERED later (the provider's result wins).
      expect(letters.length).toBeGreaterThanOrEqual(counts.DEAD);
      // …and each one counted for /metrics under its reason.
      expect(sys.senderBadRecords.deadLettered).toBe(letters.length);
      expect(
        sys.senderBadRecords.byCode.get("RETRY_BUDGET_EXHAUSTED") ?? 0,
      ).toBe(letters.length);
      for (const l of letters) {
        expect(l.reasonCode).toBe("RETRY_BUDGET_EXHAUSTED");
        expect(l.message).toMatch(
          /outreach service .* gave up after 2 attempts/,
        );
      }
      expect(
        [...sys.outreachService.perRecipient.values()].every((n) => n === 1),
      ).toBe(true);
      expect(sys.outreachService.sent).toBe(counts.DELIVERED);
    } finally {
      await sys.close();
    }
  });
});

async function waitFor(cond: () => boolean, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}
