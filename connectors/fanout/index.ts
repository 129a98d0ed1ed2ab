// Public exports of the fan-out toolkit, listed one by one (STYLE.md habit 8).
/**
 * `connectors/fanout`: send each message once per (firing, recipient, action), durably.
 *
 * @example
 * ```ts
 * import { deliverOnce, memoryActionLog } from "../connectors/fanout/index.js";
 * const log = memoryActionLog();
 * deliveries$.pipe(deliverOnce({ log, sender, concurrency: 4, deadLetters: (dl$) => dl$.pipe(tap((d) => d.ack.ack())) }));
 * ```
 */
export {
  idempotencyKey,
  keyDigest,
  memoryActionLog,
  planStatusOf,
} from "./action-log.js";
export type {
  ActionEntry,
  ActionKey,
  ActionLog,
  ActionState,
  PlanResult,
  PlanStatus,
} from "./action-log.js";
export { memorySendAtQueue } from "./send-at-queue.js";
export type { ClaimedItem, SendAtItem, SendAtQueue } from "./send-at-queue.js";
export { sendAtSource } from "./send-at-source.js";
export type { SendAtSourceOptions } from "./send-at-source.js";
export { isUnknownOutcome, UnknownOutcomeError } from "./sender.js";
export type { LookupResult, SendResult, Sender } from "./sender.js";
export { deliverOnce } from "./deliver-once.js";
export type {
  DeliverOnceOptions,
  Delivery,
  DeliveryOutcome,
  DeliveryReport,
} from "./deliver-once.js";
export { collectDeadLetters } from "./dead-letters.js";
export type { CollectedDeadLetters } from "./dead-letters.js";
export {
  migrateFanoutTables,
  postgresActionLog,
  postgresSendAtQueue,
} from "./postgres.js";
export type { FanoutTablesOptions } from "./postgres.js";
