import { DateTime } from "luxon";
import {
  asyncScheduler,
  from,
  lastValueFrom,
  merge,
  toArray,
  type SchedulerLike,
} from "rxjs";
import type { DeadLetter } from "../../operators/dead-letter.js";
import { record } from "../../operators/record.js";
import type { RetryWithBackoffOptions } from "../../operators/retry-with-backoff.js";
import { TokenBucket } from "../../operators/token-bucket.js";
import type { ActionLog } from "../../connectors/fanout/action-log.js";
import { collectDeadLetters } from "../../connectors/fanout/dead-letters.js";
import {
  deliverOnce,
  type Delivery,
  type DeliveryOutcome,
} from "../../connectors/fanout/deliver-once.js";
import type { Sender } from "../../connectors/fanout/sender.js";
import type { DeadLetterRow } from "../../connectors/postgres/dead-letters.js";
import type { Firing } from "../../connectors/schedule/source.js";
import type { EmailMessage } from "../../connectors/smtp/sender.js";
import {
  celebratedOn,
  isBirthdayOn,
  validateUser,
  type BirthdayUser,
} from "./birthday.js";
import { birthdayEmail, birthdayWhatsApp } from "./messages.js";
import { promoCode, type PromoStore, type UserStore } from "./stores.js";
import type { WhatsAppMessage } from "./whatsapp/client.js";

/** Where dead letters of the job go (PostgreSQL `dead_letters`, or memory in the demo). */
export interface PromoDeadLetters {
  write(row: DeadLetterRow): Promise<void>;
}

/** Everything one run needs. */
export interface PromoDeps {
  readonly users: UserStore;
  readonly promos: PromoStore;
  readonly log: ActionLog;
  readonly email: Sender<EmailMessage>;
  readonly whatsapp: Sender<WhatsAppMessage>;
  readonly deadLetters: PromoDeadLetters;
  /** Clock of the action log's times, retries and rate limits. Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
}

/** Tunables of a run. */
export interface PromoSettings {
  readonly job: string;
  readonly campaign: string;
  readonly discountPercent: number;
  /** How many days the promo stays valid, from local midnight. */
  readonly validDays: number;
  /** WhatsApp template language code. */
  readonly language: string;
  /** Sends in flight per provider (the bounded pool). */
  readonly emailConcurrency: number;
  readonly whatsappConcurrency: number;
  /** Sends per second per provider. */
  readonly emailRatePerSec: number;
  readonly whatsappRatePerSec: number;
  readonly retry: RetryWithBackoffOptions;
  /** Action-log lease of one send attempt (longer than a send with its retries). */
  readonly leaseMs: number;
}

/** Default settings (the job's config overrides them). */
export const DEFAULT_SETTINGS: PromoSettings = {
  job: "birthday-promo",
  campaign: "birthday",
  discountPercent: 20,
  validDays: 7,
  language: "en",
  emailConcurrency: 8,
  whatsappConcurrency: 8,
  emailRatePerSec: 50,
  whatsappRatePerSec: 80,
  retry: { maxAttempts: 5, baseDelayMs: 50, maxDelayMs: 2_000 },
  leaseMs: 60_000,
};

/** Outcome counts of one channel. */
export type ChannelCounts = {
  readonly [K in DeliveryOutcome | "dead-lettered"]: number;
};

/** What one run did; printed by the demo, logged by the job. */
export interface PromoSummary {
  readonly firingId: string;
  /**
   * The action log's "firing" of this run's sends: `${job}@${day}`. Sends are keyed by the
   * campaign day rather than the scheduled instant, so any run for the same day (a rerun of
   * the CronJob, a manual run at another time, a changed cron) sends nothing twice.
   */
  readonly actionScope: string;
  readonly day: string;
  readonly celebrated: readonly string[];
  /** Rows the query returned (candidates, bad rows included). */
  readonly candidates: number;
  readonly eligible: number;
  readonly promo: {
    readonly id: string;
    readonly code: string;
    readonly created: boolean;
  };
  readonly eligibilitiesCreated: number;
  readonly email: ChannelCounts;
  readonly whatsapp: ChannelCounts;
  /** Bad rows and channels (validation), with their reasons. */
  readonly badRows: readonly {
    readonly userId: string;
    readonly scope: string;
    readonly reason: string;
  }[];
  /** Sends that failed for good or whose outcome is unknown, with their reasons. */
  readonly failedSends: readonly {
    readonly key: string;
    readonly code: string;
    readonly reason: string;
  }[];
}

function counts(
  outcomes: readonly DeliveryOutcome[],
  dead: number,
): ChannelCounts {
  const c = {
    sent: 0,
    "already-sent": 0,
    "confirmed-by-lookup": 0,
    "dead-lettered": dead,
  };
  for (const o of outcomes) c[o] += 1;
  return c;
}

/**
 * One firing of the birthday promo (seeds/004): reads the verified users celebrated on the
 * firing's local day ({@link celebratedOn}, with the 29 February rule), reports bad rows to
 * the dead letters, creates the day's promo and its eligibilities in one transaction, then
 * sends email and WhatsApp concurrently, each through `deliverOnce` (action log keyed by
 * firing, user and channel; bounded pool; rate limit; retries; dead letter). A rerun of the
 * same day creates nothing and sends nothing twice. Throws only when a store fails (the
 * firing is then nacked and runs again).
 *
 * @example
 * ```ts
 * schedule.records().pipe(ackAfter((r) => runBirthdayPromo(r.value, deps)));
 * ```
 */
export async function runBirthdayPromo(
  firing: Firing,
  deps: PromoDeps,
  settings: PromoSettings = DEFAULT_SETTINGS,
): Promise<PromoSummary> {
  const scheduler = deps.scheduler ?? asyncScheduler;
  const day = firing.localDate;
  const actionScope = `${settings.job}@${day}`;
  const celebrated = celebratedOn(day);
  const rows = await deps.users.birthdayCandidates(celebrated);
  const badRows: { userId: string; scope: string; reason: string }[] = [];
  const eligible: BirthdayUser[] = [];
  for (const row of rows) {
    const { user, problems } = validateUser(row, day);
    for (const p of problems) {
      badRows.push({ userId: p.userId, scope: p.scope, reason: p.reason });
      await deps.deadLetters.write({
        job: settings.job,
        topic: `${settings.job}:users`,
        key: `${firing.id}/${p.scope}/${p.userId}`,
        stage: "validate",
        code: "VALIDATE",
        reason: `${p.field}: ${p.reason}`,
        payload: Buffer.from(JSON.stringify(row)),
      });
    }
    if (user !== undefined && isBirthdayOn(user.birthMonth, user.birthDay, day))
      eligible.push(user);
  }

  const validFrom = DateTime.fromISO(day, { zone: firing.timeZone }).startOf(
    "day",
  );
  const creation = await deps.promos.createPromo(
    {
      id: `${settings.campaign}-${day}`,
      campaign: settings.campaign,
      day,
      firingId: firing.id,
      code: promoCode(settings.campaign, day),
      name: `Birthday promo ${day}`,
      discountPercent: settings.discountPercent,
      validFrom: validFrom.toMillis(),
      validUntil: validFrom.plus({ days: settings.validDays }).toMillis(),
    },
    eligible.map((u) => u.id),
  );
  const promo = creation.promo;

  const failedSends: { key: string; code: string; reason: string }[] = [];
  const toRow =
    (channel: string) =>
    async <M>(letter: DeadLetter<Delivery<M>>): Promise<void> => {
      const key = `${letter.value.key.firingId}/${channel}/${letter.value.key.recipient}`;
      failedSends.push({
        key,
        code: letter.reason.code,
        reason: letter.reason.message,
      });
      await deps.deadLetters.write({
        job: settings.job,
        topic: `${settings.job}:${channel}`,
        key,
        stage: "sink",
        code: letter.reason.code,
        reason: `${letter.reason.message} (after ${letter.reason.attempts} attempts)`,
      });
    };
  const emailDead = collectDeadLetters<Delivery<EmailMessage>>(toRow("email"));
  const waDead = collectDeadLetters<Delivery<WhatsAppMessage>>(
    toRow("whatsapp"),
  );

  const key = (u: BirthdayUser, action: string) => ({
    firingId: actionScope,
    recipient: u.id,
    action,
  });
  const emails = eligible.flatMap((u) =>
    u.email === undefined
      ? []
      : [
          record<Delivery<EmailMessage>>({
            key: u.id,
            value: {
              key: key(u, "email"),
              message: birthdayEmail(
                { ...u, email: u.email },
                promo,
                firing.timeZone,
              ),
            },
            timestamp: firing.scheduledAt,
          }),
        ],
  );
  const whatsapps = eligible.flatMap((u) =>
    u.phone === undefined
      ? []
      : [
          record<Delivery<WhatsAppMessage>>({
            key: u.id,
            value: {
              key: key(u, "whatsapp"),
              message: birthdayWhatsApp(
                { ...u, phone: u.phone },
                promo,
                settings.language,
              ),
            },
            timestamp: firing.scheduledAt,
          }),
        ],
  );
  const retry = { ...settings.retry, scheduler };
  const emailOp = deliverOnce<EmailMessage>({
    log: deps.log,
    sender: deps.email,
    deadLetters: emailDead.sink,
    concurrency: settings.emailConcurrency,
    bucket: new TokenBucket({
      ratePerSec: settings.emailRatePerSec,
      scheduler,
    }),
    retry,
    leaseMs: settings.leaseMs,
    scheduler,
    maxBuffered: Math.max(1_000, emails.length),
  });
  const waOp = deliverOnce<WhatsAppMessage>({
    log: deps.log,
    sender: deps.whatsapp,
    deadLetters: waDead.sink,
    concurrency: settings.whatsappConcurrency,
    bucket: new TokenBucket({
      ratePerSec: settings.whatsappRatePerSec,
      scheduler,
    }),
    retry,
    leaseMs: settings.leaseMs,
    scheduler,
    maxBuffered: Math.max(1_000, whatsapps.length),
  });
  const reports = await lastValueFrom(
    merge(from(emails).pipe(emailOp), from(whatsapps).pipe(waOp)).pipe(
      toArray(),
    ),
  );
  const outcomes = (action: string): DeliveryOutcome[] =>
    reports
      .filter((r) => r.value.key.action === action)
      .map((r) => r.value.outcome);

  return {
    firingId: firing.id,
    actionScope,
    day,
    celebrated,
    candidates: rows.length,
    eligible: eligible.length,
    promo: { id: promo.id, code: promo.code, created: creation.created },
    eligibilitiesCreated: creation.eligibilitiesCreated,
    email: counts(outcomes("email"), emailDead.letters.length),
    whatsapp: counts(outcomes("whatsapp"), waDead.letters.length),
    badRows,
    failedSends,
  };
}
