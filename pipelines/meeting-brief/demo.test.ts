import { describe, expect, it } from "vitest";
import { runScenario, summary } from "./demo.js";
import { memoryStores } from "./wiring.js";

describe("meeting-brief end to end on the embedded default", () => {
  it("two mornings with failing simulators and SMTP: one email per sales person and day, incremental second sync, cached participants, retention", async () => {
    const stores = memoryStores();
    const r = await runScenario(stores, {
      people: 4,
      seed: 9,
      failureRate: 0.2,
      smtpFailureRate: 0.2,
    });
    const [d1, d2] = r.mornings;
    expect(d1!.prepared.fullResyncs).toBe(4);
    expect(d1!.prepared.tokenRefreshes).toBeGreaterThanOrEqual(4);
    expect(d2!.prepared.fullResyncs).toBe(0);
    expect(d2!.prepared.eventsFetched).toBeLessThan(d1!.prepared.eventsFetched);
    expect(d2!.prepared.participantsFromDb).toBeGreaterThan(0);
    for (const m of r.mornings)
      expect(m.delivered.sent + m.delivered.deadLettered).toBe(
        m.prepared.briefsQueued,
      );
    // never two emails to one person on one day
    for (const n of r.perRecipient.values()) expect(n).toBeLessThanOrEqual(2);
    expect(r.emails).toBe(d1!.delivered.sent + d2!.delivered.sent);
    expect(r.deadLetters.some((d) => d.includes("no valid email"))).toBe(true);
    expect(r.deadLetters.some((d) => d.includes("broken-1"))).toBe(true);
    expect(r.retention.participants).toBeGreaterThan(0);
    expect(r.sampleSubject).toMatch(/^Your meetings for /);
    const text = summary(r, 4);
    expect(text).toContain("day 2: firing meeting-brief@");
    console.log(text);
  });
});
