import { z } from "zod";
import { smtpConfigSchema } from "../../connectors/smtp/config.js";
import { secret } from "../../runtime/config.js";

/** Lower-case identifiers PostgreSQL accepts unquoted. */
const identifier = z
  .string()
  .regex(/^[a-z][a-z0-9_]{0,47}$/, "must match [a-z][a-z0-9_]{0,47}");

/** `HH:mm`, e.g. "07:50". */
const localTime = z
  .string()
  .regex(/^([01]\d|2[0-3]):[0-5]\d$/, "must be HH:mm (24 h)")
  .transform((s) => ({
    hour: Number(s.slice(0, 2)),
    minute: Number(s.slice(3, 5)),
  }));

const timeZone = z.string().refine((z_) => {
  try {
    new Intl.DateTimeFormat("en", { timeZone: z_ });
    return true;
  } catch {
    return false;
  }
}, "must be an IANA time zone, e.g. Europe/Lisbon");

/** Calendar API settings (`job.calendar`). */
export const calendarConfig = z
  .object({
    baseUrl: z.url().default("https://www.googleapis.com/calendar/v3"),
    tokenUrl: z.url().default("https://oauth2.googleapis.com/token"),
    clientId: z.string().min(1),
    clientSecret: secret(),
    timeoutMs: z.number().int().positive().default(10_000),
  })
  .strict();

/** Enrichment API settings (`job.enrichment`). */
export const enrichmentConfig = z
  .object({
    baseUrl: z.url().default("https://person.clearbit.com"),
    apiKey: secret(),
    timeoutMs: z.number().int().positive().default(10_000),
    concurrency: z.number().int().positive().default(4),
  })
  .strict();

/** SMTP settings (`job.smtp`). */
export const smtpConfig = smtpConfigSchema(secret(), {
  ratePerSec: z.number().positive().optional(),
  concurrency: z.number().int().positive().default(2),
});

/** Settings every meeting-brief job shares. */
export const common = {
  /** PostgreSQL schema of every table of the pipeline. */
  schema: identifier.default("meeting_brief"),
  /** The sales team's zone: 05:00 and 07:50 are local times there. */
  timeZone: timeZone.default("America/New_York"),
  /** `continuous` (a Deployment) or `run-once` (a CronJob: run the current firing, exit). */
  mode: z.enum(["continuous", "run-once"]).default("continuous"),
  /** Name of the send-at queue. */
  queue: z.string().min(1).default("meeting-brief"),
};

export const prepareJobConfig = z
  .object({
    ...common,
    cron: z.string().min(1).default("0 5 * * *"),
    sendAt: localTime.default({ hour: 7, minute: 50 }),
    windowHours: z.number().positive().default(24),
    sendEmpty: z.boolean().default(false),
    calendar: calendarConfig,
    enrichment: enrichmentConfig,
  })
  .strict();

export const senderJobConfig = z
  .object({
    ...common,
    /** Run-once (CronJob) fires at this cron and sends what is due, then exits. */
    cron: z.string().min(1).default("50 7 * * *"),
    pollMs: z.number().int().positive().default(5_000),
    leaseMs: z.number().int().positive().default(300_000),
    maxAttempts: z.number().int().positive().default(5),
    smtp: smtpConfig,
  })
  .strict();

export const retentionJobConfig = z
  .object({
    ...common,
    cron: z.string().min(1).default("30 3 * * *"),
    maxAgeDays: z.number().positive().default(30),
  })
  .strict();
