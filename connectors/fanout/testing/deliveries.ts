// Test fixtures of the deliverOnce tests: a batch of email deliveries for one firing, and one
// run of deliverOnce over it that collects the reports and the dead letters.
import { from, lastValueFrom, toArray } from "rxjs";
import { record, type Record } from "../../../operators/record.js";
import type { EmailMessage } from "../../smtp/sender.js";
import type { ActionKey } from "../action-log.js";
import type { DeadLetter } from "../../../operators/dead-letter.js";
import { collectDeadLetters } from "../dead-letters.js";
import {
  deliverOnce,
  type DeliverOnceOptions,
  type Delivery,
  type DeliveryReport,
} from "../deliver-once.js";

/** The firing every test delivery belongs to. */
export const TEST_FIRING = "promo@2026-11-21T17:01:00.000Z";

/** The action key of test recipient `i`. */
export const testKey = (i: number): ActionKey => ({
  firingId: TEST_FIRING,
  recipient: `u-${i}`,
  action: "email",
});

/**
 * `n` email deliveries, recipient `u-<i>` at `u<i>@example.com`.
 *
 * @example
 * ```ts
 * from(emailDeliveries(5)).pipe(deliverOnce({ log, sender, deadLetters }));
 * ```
 */
export function emailDeliveries(n: number): Record<Delivery<EmailMessage>>[] {
  return Array.from({ length: n }, (_, i) =>
    record({
      key: `u-${i}`,
      value: {
        key: testKey(i),
        message: {
          to: `u${i}@example.com`,
          subject: "Happy birthday",
          text: `promo ${i}`,
        },
      },
      timestamp: 0,
    }),
  );
}

/**
 * Runs {@link emailDeliveries}`(n)` through deliverOnce to completion.
 *
 * @example
 * ```ts
 * const { reports, dead } = await deliverAll(2, { log, sender: smtp });
 * ```
 */
export async function deliverAll(
  n: number,
  options: Omit<DeliverOnceOptions<EmailMessage>, "deadLetters">,
): Promise<{
  readonly reports: Record<DeliveryReport>[];
  readonly dead: readonly DeadLetter<Delivery<EmailMessage>>[];
}> {
  const dead = collectDeadLetters<Delivery<EmailMessage>>();
  const reports = await lastValueFrom(
    from(emailDeliveries(n)).pipe(
      deliverOnce({ ...options, deadLetters: dead.sink }),
      toArray(),
    ),
  );
  return { reports, dead: dead.letters };
}
