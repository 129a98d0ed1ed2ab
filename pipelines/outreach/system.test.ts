import { describe, expect, it } from "vitest";
import { MemoryLog } from "../../connectors/memory/index.js";
import { memoryActionLog } from "./action-log.js";
import { simulatedEvaluation } from "./simulators.js";
import {
  DEMO_SEGMENTS,
  startOutreachSystem,
  type OutreachSystemOptions,
} from "./system.js";
import { embeddedTransport } from "./transport.js";
import { DEFAULT_TOPICS, firingAt } from "./types.js";

const HOUR = Date.UTC(2026, 0, 5, 10);

function embedded(extra: Partial<OutreachSystemOptions> = {}) {
  return startOutreachSystem({
    transport: embeddedTransport(new MemoryLog(), DEFAULT_TOPICS),
    actionLog: memoryActionLog(),
    segments: DEMO_SEGMENTS(600, 3),
    pageSize: 100,
    retry: { attempts: 6, initialBackoffMs: 1, maxBackoffMs: 20 },
    ...extra,
  });
}

describe("outreach on the embedded log", () => {
  it("sends one email per job of every active segment, records the results and sets processedAt", async () => {
    const sys = await embedded();
    try {
      const firing = firingAt("outreach-planner", HOUR);
      const report = await sys.plan(firing);
      expect(report).toMatchObject({
        segments: 3,
        pages: 6,
        jobIds: 600,
        skipped: null,
      });
      const counts = await sys.settled(firing.id, 600);
      expect(counts.DELIVERED).toBe(600);
      expect(sys.outreachService.sent).toBe(600);
      expect(
        [...sys.outreachService.perRecipient.values()].every((n) => n === 1),
      ).toBe(true);
      expect(sys.segmentService.processedAt.size).toBe(3);
      expect(await sys.deadLetters()).toBe(0);
    } finally {
      await sys.close();
    }
  });

  it("sends nothing when the feature flag is off", async () => {
    const sys = await embedded({ enabled: false });
    try {
      const report = await sys.plan(firingAt("outreach-planner", HOUR));
      expect(report.skipped).toBe("feature-off");
      expect(sys.outreachService.sent).toBe(0);
      expect(sys.segmentService.processedAt.size).toBe(0);
    } finally {
      await sys.close();
    }
  });

  it("sends nothing twice when the same hour runs again", async () => {
    const sys = await embedded();
    try {
      const firing = firingAt("outreach-planner", HOUR);
      await sys.plan(firing);
      await sys.settled(firing.id, 600);
      const again = await sys.plan(firing);
      expect(again.pages).toBe(6);
      await waitFor(() => sys.senderStats.pages >= 12);
      const counts = await sys.settled(firing.id, 600);
      expect(counts.DELIVERED).toBe(600);
      expect(sys.outreachService.sent).toBe(600);
      expect(sys.outreachService.duplicates).toBe(0);
      expect(sys.senderStats.alreadyDone).toBe(600);
    } finally {
      await sys.close();
    }
  });

  it("reports rows without email and with an unknown template to the dead letter and sends the rest", async () => {
    const opts = { missingEmailEvery: 7, unknownTemplateEvery: 11 };
    const sys = await embedded(opts);
    try {
      const firing = firingAt("outreach-planner", HOUR);
      await sys.plan(firing);
      const counts = await sys.settled(firing.id, 600);
      let bad = 0;
      for (const s of DEMO_SEGMENTS(600, 3))
        for (let i = 1; i <= s.jobs; i++) {
          const e = simulatedEvaluation(`${s.segmentId}-job-${i}`, opts);
          if (e.recipientEmail === null || e.templateId === "retired-template")
            bad++;
        }
      expect(bad).toBeGreaterThan(0);
      expect(counts.DEAD).toBe(bad);
      expect(counts.DELIVERED).toBe(600 - bad);
      expect(await sys.deadLetters()).toBe(bad);
    } finally {
      await sys.close();
    }
  });
});

async function waitFor(cond: () => boolean, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}
