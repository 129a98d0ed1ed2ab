import { DateTime } from "luxon";
import { describe, expect, it } from "vitest";
import {
  assembleBrief,
  briefSubject,
  renderBrief,
  sendAtFor,
} from "./brief.js";
import type { Participant, SalesPerson, StoredEvent } from "./types.js";

const ZONE = "America/New_York";
const at = (iso: string): number =>
  DateTime.fromISO(iso, { zone: ZONE }).toMillis();
const person: SalesPerson & { email: string } = {
  id: 7,
  name: "Ana <script>",
  email: "ana@sales.example",
  accessToken: "a",
  refreshToken: "r",
  expiresMs: 0,
};
const firing = { id: "meeting-brief@x", scheduledMs: at("2026-11-23T05:00") };
const event = (
  id: string,
  start: string,
  o: Partial<StoredEvent> = {},
): StoredEvent => ({
  salesPersonId: 7,
  eventId: id,
  summary: `Call ${id}`,
  startMs: at(start),
  endMs: at(start) + 45 * 60_000,
  allDay: false,
  updatedMs: 0,
  attendees: [
    { email: "cto@acme.example", displayName: "The CTO" },
    { email: "x@unknown.example" },
  ],
  ...o,
});
const cto: Participant = {
  id: 1,
  email: "cto@acme.example",
  firstName: "Kim",
  lastName: "Berg",
  avatar: "https://a.example/k.png",
  title: "CTO",
  linkedinUrl: "https://www.linkedin.com/in/kim",
  company: {
    id: 1,
    name: "Acme",
    domain: "acme.example",
    linkedinUrl: null,
    employees: 120,
  },
  updatedMs: 0,
};

describe("brief", () => {
  it("assembles local times, enriched and unknown participants, and escapes every value in the HTML", () => {
    const data = assembleBrief(
      firing,
      person,
      [
        event("a", "2026-11-23T09:30"),
        event("b", "2026-11-23T00:00", { allDay: true, summary: "Offsite" }),
      ],
      new Map([[cto.email, cto]]),
      ZONE,
    );
    expect(data.day).toBe("Monday 23 November 2026");
    expect(data.meetings.map((m) => m.when)).toEqual([
      "09:30–10:15",
      "all day",
    ]);
    expect(data.meetings[0]!.participants).toEqual([
      {
        email: "cto@acme.example",
        name: "Kim Berg",
        title: "CTO",
        avatar: "https://a.example/k.png",
        linkedinUrl: "https://www.linkedin.com/in/kim",
        company: { name: "Acme", employees: 120, linkedinUrl: null },
        known: true,
      },
      {
        email: "x@unknown.example",
        name: "x@unknown.example",
        title: null,
        avatar: null,
        linkedinUrl: null,
        company: null,
        known: false,
      },
    ]);
    const email = renderBrief(data, 123);
    expect(email).toMatchObject({
      to: "ana@sales.example",
      sendAtMs: 123,
      salesPersonId: 7,
      firingId: "meeting-brief@x",
    });
    expect(email.html).toContain("Ana &lt;script&gt;");
    expect(email.html).not.toContain("<script>");
    expect(email.html).toContain("120 employees");
    expect(email.html).toContain("no enrichment data");
    expect(email.text).toContain("Kim Berg, CTO at Acme <cto@acme.example>");
  });

  it("has a subject for an empty day", () => {
    expect(
      briefSubject(assembleBrief(firing, person, [], new Map(), ZONE)),
    ).toBe("No meetings on Monday 23 November");
  });

  it("sends at 07:50 local on both sides of a daylight-saving change", () => {
    // US DST ends 2026-11-01 and starts 2026-03-08.
    expect(
      new Date(
        sendAtFor(at("2026-11-01T05:00"), ZONE, { hour: 7, minute: 50 }),
      ).toISOString(),
    ).toBe("2026-11-01T12:50:00.000Z");
    expect(
      new Date(
        sendAtFor(at("2026-10-31T05:00"), ZONE, { hour: 7, minute: 50 }),
      ).toISOString(),
    ).toBe("2026-10-31T11:50:00.000Z");
    expect(
      new Date(
        sendAtFor(at("2026-03-08T05:00"), ZONE, { hour: 7, minute: 50 }),
      ).toISOString(),
    ).toBe("2026-03-08T11:50:00.000Z");
  });
});
