import { z } from "zod";
import { smtpConfigSchema } from "../../connectors/smtp/config.js";
import { secret } from "../../runtime/config.js";

const identifier = z
  .string()
  .regex(/^[a-z][a-z0-9_]{0,47}$/, "must match [a-z][a-z0-9_]{0,47}");

/**
 * The `job` section of `sluice run birthday-promo`. Every key can come from the environment:
 * `SLUICE_JOB__SMTP__HOST=smtp.example.com`, `SLUICE_JOB__WHATSAPP__ACCESS_TOKEN='{"file":"/var/run/secrets/wa/token"}'`.
 */
export const birthdayPromoConfig = z
  .object({
    /** PostgreSQL schema of users, promos, action log, firings and dead letters. */
    schema: identifier.default("birthday_promo"),
    cron: z.string().min(1).default("1 0 * * *"),
    timeZone: z.string().min(1).default("Asia/Jakarta"),
    /** `run-once`: a K3s CronJob run (the firing it was started for, then exit); `continuous`: a Deployment. */
    mode: z.enum(["run-once", "continuous"]).default("run-once"),
    /** Run-once: how late a start may be and still count for the firing. */
    toleranceMs: z
      .number()
      .int()
      .min(0)
      .default(15 * 60_000),
    campaign: z.string().min(1).default("birthday"),
    discountPercent: z.number().int().min(1).max(100).default(20),
    validDays: z.number().int().positive().default(7),
    /** WhatsApp template language (the approved `birthday_promo` template's). */
    language: z.string().min(2).default("id"),
    smtp: smtpConfigSchema(secret(), {
      concurrency: z.number().int().positive().default(4),
      ratePerSec: z.number().positive().default(10),
    }),
    whatsapp: z
      .object({
        baseUrl: z.url().default("https://graph.facebook.com"),
        version: z
          .string()
          .regex(/^v\d+\.\d+$/, "must look like v21.0")
          .default("v21.0"),
        // An env value of digits arrives as a JSON number (SLUICE_JOB__WHATSAPP__PHONE_NUMBER_ID):
        // read it back as the digit string the API takes.
        phoneNumberId: z
          .union([
            z.string(),
            z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
          ])
          .transform(String)
          .pipe(z.string().regex(/^\d+$/, "must be digits")),
        accessToken: secret(),
        timeoutMs: z.number().int().positive().default(10_000),
        concurrency: z.number().int().positive().default(8),
        ratePerSec: z.number().positive().default(50),
      })
      .strict(),
    /** Attempts per send (first included), with exponential backoff. */
    maxAttempts: z.number().int().positive().default(5),
  })
  .strict();

/** The parsed `job` section. */
export type BirthdayPromoConfig = z.output<typeof birthdayPromoConfig>;
