import { lastValueFrom, map, type SchedulerLike } from "rxjs";
import {
  collectDeadLetters,
  deliverOnce,
  sendAtSource,
  type ActionLog,
  type Delivery,
  type SendAtQueue,
  type Sender,
} from "../../connectors/fanout/index.js";
import type { EmailMessage } from "../../connectors/smtp/index.js";
import type {
  BadRecordCounters,
  DeadLetter,
} from "../../operators/dead-letter.js";
import { ackAfter } from "../../operators/ack-after.js";
import { derive } from "../../operators/record.js";
import { SluiceError } from "../../operators/sluice-error.js";
import type { RetryWithBackoffOptions } from "../../operators/retry-with-backoff.js";
import { TokenBucket } from "../../operators/token-bucket.js";
import type { BriefDeadLetters } from "./dead-letters.js";
import { BRIEF_ACTION, recipientOf } from "./prepare.js";
import type { RenderedBrief } from "./types.js";

/** Options of {@link deliverBriefs}. */
export interface DeliverBriefsOptions {
  readonly job: string;
  /** The send-at queue the 05:00 run filled. */
  readonly queue: SendAtQueue<RenderedBrief>;
  /** The action log: a brief is sent at most once per (firing, sales person). */
  readonly log: ActionLog;
  /** SMTP (connectors/smtp `smtpSender`). */
  readonly sender: Sender<EmailMessage>;
  readonly deadLetters: BriefDeadLetters;
  /** Sends at once. Default 2. */
  readonly concurrency?: number;
  /** SMTP rate limit, messages per second. Default: none. */
  readonly ratePerSec?: number;
  /** Retries of one send (4xx replies, refused connections). Default 5 attempts. */
  readonly retry?: RetryWithBackoffOptions;
  /** Lease of a claimed queue item and of an attempt in the action log. Default 300 000. */
  readonly leaseMs?: number;
  /** How often to look for due briefs. Default 1 000. */
  readonly pollMs?: number;
  /** Finish when the queue holds nothing not done (run-once; tests, the demo, a CronJob). */
  readonly stopWhenEmpty?: boolean;
  /** Clock (virtual time in tests and the demo). Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
  /** Dead letters by reason code, for /metrics (`ctx.trackCounters`). */
  readonly badRecords?: BadRecordCounters;
}

/** What a delivery run did. */
export interface DeliverySummary {
  sent: number;
  alreadySent: number;
  inProgressElsewhere: number;
  deadLettered: number;
}

/**
 * The 07:50 delivery: due briefs from the send-at queue, each sent over SMTP at most once per
 * (firing, sales person) through the fan-out action log (`deliverOnce`: plan, attempt with a
 * lease, send with retries, confirm), rate-limited; a brief that cannot be sent (5xx, retries
 * used up, an attempt whose outcome is unknown after a crash) is a dead letter with the reason.
 * The queue item is completed once the brief is sent or dead-lettered, so a crash anywhere
 * hands it out again after its lease and the action log decides what happens.
 *
 * @example
 * ```ts
 * const run = deliverBriefs({ job: "meeting-brief-sender", queue, log, sender: smtp, deadLetters, stopWhenEmpty: true });
 * const summary = await run.done;
 * ```
 */
export function deliverBriefs(o: DeliverBriefsOptions): {
  readonly done: Promise<DeliverySummary>;
  readonly summary: DeliverySummary;
  /** Stops claiming; resolves once in-flight briefs settle. */
  stop(): Promise<void>;
} {
  const summary: DeliverySummary = {
    sent: 0,
    alreadySent: 0,
    inProgressElsewhere: 0,
    deadLettered: 0,
  };
  const source = sendAtSource(o.queue, {
    ...(o.scheduler === undefined ? {} : { scheduler: o.scheduler }),
    ...(o.leaseMs === undefined ? {} : { leaseMs: o.leaseMs }),
    ...(o.pollMs === undefined ? {} : { pollMs: o.pollMs }),
    stopWhenEmpty: o.stopWhenEmpty ?? false,
  });
  const writeDeadLetter = async (
    d: DeadLetter<Delivery<EmailMessage>>,
  ): Promise<void> => {
    summary.deadLettered++;
    if (o.badRecords !== undefined) {
      o.badRecords.deadLettered++;
      o.badRecords.byCode.set(
        d.reason.code,
        (o.badRecords.byCode.get(d.reason.code) ?? 0) + 1,
      );
    }
    await o.deadLetters.write({
      job: o.job,
      stage: d.reason.stage,
      code: d.reason.code,
      key: `${d.value.key.firingId}/${d.value.key.recipient}`,
      reason: d.reason.message,
    });
  };
  const done = lastValueFrom(
    source.records().pipe(
      map((r) =>
        derive<RenderedBrief, Delivery<EmailMessage>>(r, {
          key: {
            firingId: r.value.firingId,
            recipient: recipientOf(r.value.salesPersonId),
            action: BRIEF_ACTION,
          },
          message: {
            to: r.value.to,
            subject: r.value.subject,
            html: r.value.html,
            text: r.value.text,
            headers: { "X-Sluice-Firing": r.value.firingId },
          },
        }),
      ),
      deliverOnce<EmailMessage>({
        log: o.log,
        sender: o.sender,
        concurrency: o.concurrency ?? 2,
        retry: {
          maxAttempts: 5,
          baseDelayMs: 500,
          maxDelayMs: 30_000,
          ...o.retry,
          ...(o.scheduler === undefined ? {} : { scheduler: o.scheduler }),
        },
        ...(o.leaseMs === undefined ? {} : { leaseMs: o.leaseMs }),
        ...(o.ratePerSec === undefined
          ? {}
          : {
              bucket: new TokenBucket({
                ratePerSec: o.ratePerSec,
                ...(o.scheduler === undefined
                  ? {}
                  : { scheduler: o.scheduler }),
              }),
            }),
        ...(o.scheduler === undefined ? {} : { scheduler: o.scheduler }),
        deadLetters: collectDeadLetters(writeDeadLetter).sink,
      }),
      // The queue item is completed when the brief is settled (sent, already sent or
      // dead-lettered) and handed back when another worker's attempt holds its lease.
      ackAfter(
        (r) => {
          if (
            r.value.outcome === "sent" ||
            r.value.outcome === "confirmed-by-lookup"
          )
            summary.sent++;
          else if (r.value.outcome === "already-sent") summary.alreadySent++;
          else {
            // Another worker's attempt holds the action's lease: hand the item back for
            // later instead of completing it, in case that worker dies.
            summary.inProgressElsewhere++;
            throw new SluiceError(
              "CONFLICT",
              `${r.key ?? "brief"}: being sent by another worker`,
              { retryable: true },
            );
          }
        },
        { onError: () => undefined },
      ),
    ),
    { defaultValue: undefined },
  ).then(() => summary);
  return { done, summary, stop: () => source.close() };
}
