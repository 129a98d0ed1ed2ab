import { readFileSync } from "node:fs";
import Handlebars from "handlebars";
import { DateTime } from "luxon";
import type {
  BriefData,
  BriefMeeting,
  BriefParticipant,
  Firing,
  Participant,
  RenderedBrief,
  SalesPerson,
  StoredEvent,
} from "./types.js";

/**
 * Assembles the JSON the email template renders: the sales person, the day in the team's
 * zone, and each meeting with its participants (enriched when known).
 *
 * @example
 * ```ts
 * const data = assembleBrief(firing, person, events, enriched.byEmail, "Europe/Lisbon");
 * ```
 */
export function assembleBrief(
  firing: Firing,
  person: SalesPerson & { readonly email: string },
  events: readonly StoredEvent[],
  participants: ReadonlyMap<string, Participant>,
  timeZone: string,
): BriefData {
  const local = (ms: number): DateTime =>
    DateTime.fromMillis(ms, { zone: timeZone });
  const meetings: BriefMeeting[] = events.map((e) => ({
    eventId: e.eventId,
    summary: e.summary,
    when: e.allDay
      ? "all day"
      : `${local(e.startMs).toFormat("HH:mm")}–${local(e.endMs).toFormat("HH:mm")}`,
    location: e.location ?? null,
    link: e.htmlLink ?? null,
    participants: e.attendees.map((a): BriefParticipant => {
      const p = participants.get(a.email);
      if (p === undefined)
        return {
          email: a.email,
          name: a.displayName ?? a.email,
          title: null,
          avatar: null,
          linkedinUrl: null,
          company: null,
          known: false,
        };
      const name = [p.firstName, p.lastName]
        .filter((x) => x !== null && x !== "")
        .join(" ");
      return {
        email: a.email,
        name: name !== "" ? name : (a.displayName ?? a.email),
        title: p.title,
        avatar: p.avatar,
        linkedinUrl: p.linkedinUrl,
        company:
          p.company === null
            ? null
            : {
                name: p.company.name,
                employees: p.company.employees,
                linkedinUrl: p.company.linkedinUrl,
              },
        known: true,
      };
    }),
  }));
  return {
    firingId: firing.id,
    salesPerson: { id: person.id, name: person.name, email: person.email },
    day: local(firing.scheduledMs)
      .setLocale("en-GB")
      .toFormat("cccc d LLLL yyyy"),
    timeZone,
    meetings,
  };
}

let htmlTemplate: Handlebars.TemplateDelegate<BriefData> | undefined;

/** The subject line of a brief. */
export function briefSubject(data: BriefData): string {
  const n = data.meetings.length;
  const people = new Set(
    data.meetings.flatMap((m) => m.participants.map((p) => p.email)),
  ).size;
  const day = data.day.replace(/ \d{4}$/, "");
  return n === 0
    ? `No meetings on ${day}`
    : `Your meetings for ${day}: ${n} meeting${n === 1 ? "" : "s"}, ${people} participant${people === 1 ? "" : "s"}`;
}

/** The plain-text part of a brief (for clients that show no HTML). */
export function briefText(data: BriefData): string {
  const lines = [
    `Good morning ${data.salesPerson.name}`,
    "",
    `Your meetings for ${data.day} (${data.timeZone}):`,
  ];
  for (const m of data.meetings) {
    lines.push(
      "",
      `${m.when}  ${m.summary}${m.location === null ? "" : ` (${m.location})`}`,
    );
    for (const p of m.participants)
      lines.push(
        `  - ${p.name}${p.title === null ? "" : `, ${p.title}`}${p.company === null ? "" : ` at ${p.company.name}`} <${p.email}>`,
      );
  }
  if (data.meetings.length === 0)
    lines.push("", "No meetings in the next 24 hours.");
  return lines.join("\n");
}

/**
 * Renders a brief with handlebars (`templates/brief.hbs`; every value HTML-escaped), into
 * the email that goes to the send-at queue.
 *
 * @example
 * ```ts
 * const email = renderBrief(data, sendAtMs); // { to, subject, html, text, sendAtMs, … }
 * ```
 */
export function renderBrief(data: BriefData, sendAtMs: number): RenderedBrief {
  htmlTemplate ??= Handlebars.compile<BriefData>(
    readFileSync(new URL("./templates/brief.hbs", import.meta.url), "utf8"),
    { strict: false },
  );
  return {
    firingId: data.firingId,
    salesPersonId: data.salesPerson.id,
    to: data.salesPerson.email,
    subject: briefSubject(data),
    html: htmlTemplate(data),
    text: briefText(data),
    sendAtMs,
  };
}

/**
 * The send time of a firing's briefs: `hour:minute` on the firing's local day in `timeZone`
 * (07:50 by default). Luxon moves a time that a DST gap skips forward.
 *
 * @example
 * ```ts
 * sendAtFor(firing.scheduledMs, "America/New_York", { hour: 7, minute: 50 });
 * ```
 */
export function sendAtFor(
  scheduledMs: number,
  timeZone: string,
  at: { readonly hour: number; readonly minute: number },
): number {
  return DateTime.fromMillis(scheduledMs, { zone: timeZone })
    .set({ hour: at.hour, minute: at.minute, second: 0, millisecond: 0 })
    .toMillis();
}
