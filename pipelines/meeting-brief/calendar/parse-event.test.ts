import { describe, expect, it } from "vitest";
import { parseEvent } from "./parse-event.js";

const o = {
  salesPersonId: 1,
  ownerEmail: "Rep@Sales.example",
  timeZone: "America/New_York",
};

describe("parseEvent", () => {
  it("keeps outside attendees only: not the owner, not rooms, not ones without an email", () => {
    const p = parseEvent(
      {
        id: "e",
        updated: "2026-11-20T10:00:00Z",
        start: { dateTime: "2026-11-23T09:30:00-05:00" },
        end: { dateTime: "2026-11-23T10:00:00-05:00" },
        attendees: [
          { email: "rep@sales.example" },
          { email: "Me@x.example", self: true },
          { email: "room@r.example", resource: true },
          { displayName: "no email" },
          { email: " CTO@Acme.example ", displayName: "C" },
        ],
      },
      o,
    );
    expect(p.kind).toBe("event");
    if (p.kind !== "event") return;
    expect(p.event.attendees).toEqual([
      { email: "cto@acme.example", displayName: "C" },
    ]);
    expect(p.event.startMs).toBe(Date.parse("2026-11-23T14:30:00Z"));
    expect(p.event.summary).toBe("(no title)");
  });

  it("reads an all-day event as midnight in the team's zone", () => {
    const p = parseEvent(
      { id: "d", start: { date: "2026-11-23" }, end: { date: "2026-11-24" } },
      o,
    );
    expect(p.kind === "event" && [p.event.allDay, p.event.startMs]).toEqual([
      true,
      Date.parse("2026-11-23T05:00:00Z"),
    ]);
  });

  it("reports cancelled and unusable events", () => {
    expect(parseEvent({ id: "c", status: "cancelled" }, o)).toEqual({
      kind: "cancelled",
      eventId: "c",
    });
    expect(
      parseEvent(
        {
          id: "x",
          start: { dateTime: "tomorrow" },
          end: { dateTime: "2026-11-23T10:00:00Z" },
        },
        o,
      ),
    ).toMatchObject({
      kind: "invalid",
      reason: expect.stringMatching(/start: unparsable/) as unknown,
    });
    expect(
      parseEvent(
        {
          id: "y",
          start: { dateTime: "2026-11-23T10:00:00Z" },
          end: { dateTime: "2026-11-23T09:00:00Z" },
        },
        o,
      ),
    ).toMatchObject({ kind: "invalid", reason: "end is before start" });
    expect(
      parseEvent({ id: "z", end: { dateTime: "2026-11-23T09:00:00Z" } }, o),
    ).toMatchObject({ kind: "invalid", reason: "start: missing" });
  });
});
