import { describe, expect, it } from "vitest";
import {
  celebratedOn,
  isBirthdayOn,
  parseBirthDate,
  validateUser,
} from "./birthday.js";

describe("birthdays and the 29 February rule", () => {
  it("celebrates 29 February birthdays on 28 February in non-leap years", () => {
    expect(isBirthdayOn(2, 29, "2027-02-28")).toBe(true);
    expect(isBirthdayOn(2, 29, "2027-03-01")).toBe(false);
    expect(isBirthdayOn(2, 28, "2027-02-28")).toBe(true);
  });

  it("celebrates them on 29 February in leap years, and not on the 28th", () => {
    expect(isBirthdayOn(2, 29, "2028-02-29")).toBe(true);
    expect(isBirthdayOn(2, 29, "2028-02-28")).toBe(false);
    expect(celebratedOn("2100-02-28")).toEqual(["02-28", "02-29"]); // 2100 is not a leap year
    expect(celebratedOn("2000-02-28")).toEqual(["02-28"]);
  });

  it("rejects birth dates that are missing, malformed, not calendar dates or in the future", () => {
    expect(parseBirthDate(null, "2026-11-22")).toEqual({
      reason: "birth_date is missing",
    });
    expect(JSON.stringify(parseBirthDate("22/11/1990", "2026-11-22"))).toMatch(
      /YYYY-MM-DD/,
    );
    expect(JSON.stringify(parseBirthDate("2001-02-29", "2026-11-22"))).toMatch(
      /calendar/,
    );
    expect(JSON.stringify(parseBirthDate("2030-01-01", "2026-11-22"))).toMatch(
      /future/,
    );
    expect(parseBirthDate("2000-02-29", "2026-11-22")).toEqual({
      month: 2,
      day: 29,
    });
  });

  it("a missing email disables only the email channel, with the reason", () => {
    const r = validateUser(
      {
        id: "u1",
        name: "Ana",
        email: null,
        phone: "+628123456789",
        birthDate: "1990-11-22",
        verified: true,
      },
      "2026-11-22",
    );
    expect(r.user?.phone).toBe("+628123456789");
    expect(r.user?.email).toBeUndefined();
    expect(r.problems).toEqual([
      {
        userId: "u1",
        scope: "email",
        field: "email",
        reason: "email is missing",
      },
    ]);
  });

  it("a bad phone disables WhatsApp; an invalid birth date makes the row unusable", () => {
    expect(
      validateUser(
        {
          id: "u2",
          name: "B",
          email: "b@example.com",
          phone: "0812",
          birthDate: "1990-11-22",
          verified: true,
        },
        "2026-11-22",
      ).problems.map((p) => p.scope),
    ).toEqual(["whatsapp"]);
    const bad = validateUser(
      {
        id: "u3",
        name: "C",
        email: "c@example.com",
        phone: null,
        birthDate: "1990-13-01",
        verified: true,
      },
      "2026-11-22",
    );
    expect(bad.user).toBeUndefined();
    expect(bad.problems[0]?.scope).toBe("user");
  });
});
