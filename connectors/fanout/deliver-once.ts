import {
  asyncScheduler,
  defer,
  from,
  identity,
  lastValueFrom,
  timer,
  type Observable,
  type OperatorFunction,
  type SchedulerLike,
} from "rxjs";
import type { BadRecordCounters } from "../../operators/dead-letter.js";
import { deadLetter, type DeadLetter } from "../../operators/dead-letter.js";
import { keyOrderedMap } from "../../operators/key-ordered-map.js";
import type { PressureGauge } from "../../operators/pressure-gauge.js";
import { rateLimit } from "../../operators/rate-limit.js";
import type { Record } from "../../operators/record.js";
import {
  retryWithBackoff,
  type RetryWithBackoffOptions,
} from "../../operators/retry-with-backoff.js";
import { SluiceError } from "../../operators/sluice-error.js";
import type { TokenBucket } from "../../operators/token-bucket.js";
import {
  idempotencyKey,
  type ActionKey,
  type ActionLog,
} from "./action-log.js";
import {
  isUnknownOutcome,
  UnknownOutcomeError,
  type Sender,
} from "./sender.js";

/** One message to deliver once: its action key and the provider's message. */
export interface Delivery<M> {
  readonly key: ActionKey;
  readonly message: M;
}

/**
 * What happened to a delivery that did not fail:
 * `sent` (sent now), `already-sent` (the log says sent: nothing sent),
 * `confirmed-by-lookup` (an unconfirmed earlier attempt that the provider says arrived),
 * An attempt another worker holds is waited for (its lease), never skipped.
 */
export type DeliveryOutcome = "sent" | "already-sent" | "confirmed-by-lookup";

/** The result record of {@link deliverOnce}. */
export interface DeliveryReport {
  readonly key: ActionKey;
  readonly provider: string;
  readonly outcome: DeliveryOutcome;
  readonly providerId: string | undefined;
}

/** Options of {@link deliverOnce}. */
export interface DeliverOnceOptions<M> {
  readonly log: ActionLog;
  readonly sender: Sender<M>;
  /** Writes dead letters and acks each once stored (as `deadLetter`'s sink). */
  readonly deadLetters: (
    deadLetters: Observable<Record<DeadLetter<Delivery<M>>>>,
  ) => Observable<unknown>;
  /** Sends to this provider running at once (the per-provider concurrency cap). Default 4. */
  readonly concurrency?: number;
  /** The provider's rate limit (shared bucket). Default: none. */
  readonly bucket?: TokenBucket;
  /** Retries of one send (backoff, budget, attempt timeout). Default: 3 attempts. */
  readonly retry?: RetryWithBackoffOptions;
  /**
   * Lease of an attempt in the action log; set it longer than one send with its retries. A
   * row under a live lease is waited for (up to 3 leases, then a retryable CONFLICT dead
   * letter) and then resolved as sent or unconfirmed, so a crashed attempt is resolved at the
   * latest one lease after the restart. Default 60 000.
   */
  readonly leaseMs?: number;
  /**
   * An earlier attempt that never confirmed, at a provider that is not idempotent by key and
   * whose lookup cannot tell: `dead-letter` (default: at most once; the row goes to `unknown`
   * and a dead letter with the reason, for a human) or `resend` (at least once; may send twice).
   */
  readonly onUnknownOutcome?: "dead-letter" | "resend";
  /** Held records bound (rate limit and per-key queue). Default 1 000. */
  readonly maxBuffered?: number;
  readonly gauge?: PressureGauge<Record<Delivery<M>>>;
  /** Counters of dead letters. */
  readonly counters?: BadRecordCounters;
  /** Clock for the log's times, the rate limit and retries. Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
}

/**
 * Delivers each message at most once per action key and never drops one silently:
 * `plan` in the action log → (resolve an unconfirmed earlier attempt) → `attempt` with a
 * lease → send (rate limited by `bucket`, at most `concurrency` at once, retried with
 * backoff within the budget) → `confirm`; a failure is `fail`ed in the log and
 * dead-lettered with its reason. Records are keyed by recipient (one send per key at a time).
 *
 * Resolution of an attempt that never confirmed (a crash between send and confirm): a
 * provider idempotent by key is sent again with the same key; a provider with `lookup` is
 * asked (sent → confirmed without sending, not sent → sent); otherwise `onUnknownOutcome`.
 *
 * @example
 * ```ts
 * deliveries$.pipe(deliverOnce({ log, sender: smtpSender(smtp), concurrency: 4,
 *   bucket: new TokenBucket({ ratePerSec: 20 }), retry: { maxAttempts: 5, budget },
 *   deadLetters: (dl$) => dl$.pipe(tap((d) => { store(d.value); d.ack.ack(); })) }));
 * ```
 */
export function deliverOnce<M>(
  options: DeliverOnceOptions<M>,
): OperatorFunction<Record<Delivery<M>>, Record<DeliveryReport>> & {
  readonly counters: BadRecordCounters;
} {
  const { log, sender } = options;
  const scheduler = options.scheduler ?? asyncScheduler;
  const leaseMs = options.leaseMs ?? 60_000;
  const maxLeaseWaits = 3;
  const onUnknown = options.onUnknownOutcome ?? "dead-letter";
  const now = (): number => scheduler.now();
  const retryOptions: RetryWithBackoffOptions = { scheduler, ...options.retry };
  const dl = deadLetter<Delivery<M>, DeliveryReport>({
    policy: "DEAD_LETTER",
    sink: options.deadLetters,
    ...(options.counters !== undefined ? { counters: options.counters } : {}),
  });

  const report = (
    key: ActionKey,
    outcome: DeliveryOutcome,
    providerId?: string,
  ): DeliveryReport => ({
    key,
    provider: sender.provider,
    outcome,
    providerId,
  });

  /** Starts an attempt and sends; undefined when another attempt holds the row (look again). */
  const sendNow = async (
    record: Record<Delivery<M>>,
  ): Promise<DeliveryReport | undefined> => {
    const { key, message } = record.value;
    if (!(await log.attempt(key, now(), leaseMs))) return undefined;
    let providerId: string | undefined;
    try {
      const send = retryWithBackoff<Delivery<M>, { providerId?: string }>(
        () => from(sender.send(message, key)),
        retryOptions,
      );
      providerId = (await lastValueFrom(send(record))).providerId;
    } catch (error) {
      const unknown = isUnknownOutcome(error);
      const reason = error instanceof Error ? error.message : String(error);
      await log.fail(key, reason, now(), unknown ? "unknown" : "failed");
      throw error;
    }
    await log.confirm(key, providerId, now());
    return report(key, "sent", providerId);
  };

  const context = (record: Record<Delivery<M>>) => ({
    key: record.key ?? idempotencyKey(record.value.key),
    stage: "sink" as const,
  });

  const step = async (record: Record<Delivery<M>>): Promise<DeliveryReport> => {
    const { key } = record.value;
    for (let round = 0; ; round++) {
      const planned = await log.plan(key, sender.provider, now());
      let sent: DeliveryReport | undefined;
      switch (planned.status) {
        case "sent":
          return report(key, "already-sent", planned.entry.providerId);
        case "in-progress": {
          // Another attempt holds a live lease (another worker, or a crashed run whose lease
          // has not ended): wait for the lease to end, then look again; it is then sent or
          // unconfirmed. Never skipped.
          if (round >= maxLeaseWaits)
            throw new SluiceError(
              "CONFLICT",
              `${idempotencyKey(key)}: another attempt still holds its lease after ${maxLeaseWaits} waits; not sent here`,
              { retryable: true, context: context(record) },
            );
          const wait = Math.max(
            1,
            (planned.entry.leaseUntil ?? now()) - now() + 1,
          );
          await lastValueFrom(timer(wait, scheduler));
          continue;
        }
        case "unknown":
          throw new SluiceError(
            "CONFLICT",
            `${idempotencyKey(key)}: an earlier attempt's outcome is unknown (${planned.entry.reason ?? "no reason"}); not sent again, check the provider`,
            { context: context(record) },
          );
        case "unconfirmed": {
          if (sender.idempotentByKey) {
            sent = await sendNow(record);
            break;
          }
          const found =
            sender.lookup === undefined
              ? { found: "unknown" as const }
              : await sender.lookup(key);
          if (found.found === "sent") {
            await log.confirm(key, found.providerId, now());
            return report(key, "confirmed-by-lookup", found.providerId);
          }
          if (found.found === "not-sent" || onUnknown === "resend") {
            sent = await sendNow(record);
            break;
          }
          const reason = `${sender.provider}: attempt ${planned.entry.attempts} of ${idempotencyKey(key)} was never confirmed and the provider cannot tell whether it arrived`;
          await log.fail(key, reason, now(), "unknown");
          throw new UnknownOutcomeError(reason, { context: context(record) });
        }
        case "new":
        case "planned":
        case "failed":
          sent = await sendNow(record);
          break;
      }
      if (sent !== undefined) return sent;
    }
  };

  const limited: OperatorFunction<
    Record<Delivery<M>>,
    Record<Delivery<M>>
  > = options.bucket === undefined
    ? identity
    : rateLimit({
        bucket: options.bucket,
        maxQueued: options.maxBuffered ?? 1_000,
        ...(options.gauge !== undefined ? { gauge: options.gauge } : {}),
      });

  const operator: OperatorFunction<
    Record<Delivery<M>>,
    Record<DeliveryReport>
  > = (source) =>
    source.pipe(
      limited,
      keyOrderedMap((r: Record<Delivery<M>>) => defer(() => step(r)), {
        concurrency: options.concurrency ?? 4,
        maxBuffered: options.maxBuffered ?? 1_000,
        scheduler,
        stage: "sink",
        ...(options.gauge !== undefined ? { gauge: options.gauge } : {}),
      }),
      dl,
    );
  return Object.assign(operator, { counters: dl.counters });
}
