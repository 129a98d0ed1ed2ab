import { describe, expect, it } from "vitest";
import { prepareJobConfig, senderJobConfig } from "./config.js";

const base = {
  calendar: { clientId: "id", clientSecret: "s" },
  enrichment: { apiKey: "k" },
};

describe("meeting-brief config", () => {
  it("defaults to 05:00 / 07:50 and parses HH:mm", () => {
    const c = prepareJobConfig.parse(base);
    expect([c.cron, c.sendAt, c.windowHours, c.mode]).toEqual([
      "0 5 * * *",
      { hour: 7, minute: 50 },
      24,
      "continuous",
    ]);
    expect(prepareJobConfig.parse({ ...base, sendAt: "08:05" }).sendAt).toEqual(
      { hour: 8, minute: 5 },
    );
  });

  it("names the field that is wrong", () => {
    const zone = prepareJobConfig.safeParse({
      ...base,
      timeZone: "Mars/Olympus",
    });
    expect(zone.success).toBe(false);
    expect(zone.error?.issues[0]?.path).toEqual(["timeZone"]);
    const time = prepareJobConfig.safeParse({ ...base, sendAt: "7:50" });
    expect(time.error?.issues[0]?.path).toEqual(["sendAt"]);
    const smtp = senderJobConfig.safeParse({
      smtp: { host: "h", from: "a@b.example", user: "u" },
    });
    expect(smtp.error?.issues[0]?.path).toEqual(["smtp", "password"]);
  });

  it("keeps secrets out of printed config", () => {
    const c = prepareJobConfig.parse({
      ...base,
      enrichment: { apiKey: "sk_live_abc" },
    });
    expect(JSON.stringify(c)).not.toContain("sk_live_abc");
    expect(c.enrichment.apiKey.reveal()).toBe("sk_live_abc");
  });
});
