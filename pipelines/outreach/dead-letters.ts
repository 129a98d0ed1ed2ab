import { randomUUID } from "node:crypto";
import type { OutgoingRecord } from "../../connectors/types.js";
import type { SluiceErrorCode, Stage } from "../../operators/sluice-error.js";
import type { Origin } from "../../operators/record.js";
import type { BadRecordCounters } from "../../operators/dead-letter.js";
import { outreachCodecs } from "./avro.js";

/**
 * Counts written dead letters into the operators' {@link BadRecordCounters} (by reason code),
 * which a job hands to `ctx.trackCounters` for `sluice_bad_records_total`.
 *
 * @example
 * ```ts
 * countDeadLetters(counters, [{ reasonCode: "VALIDATE" }]); // counters.deadLettered === 1
 * ```
 */
export function countDeadLetters(
  counters: BadRecordCounters,
  written: readonly Pick<DeadLetterInput, "reasonCode">[],
): void {
  counters.deadLettered += written.length;
  for (const d of written)
    counters.byCode.set(
      d.reasonCode,
      (counters.byCode.get(d.reasonCode) ?? 0) + 1,
    );
}

/** Why one item (a page, a job, an email, a result) could not be handled. */
export interface DeadLetterInput {
  readonly reasonCode: SluiceErrorCode;
  readonly message: string;
  readonly stage: Stage;
  readonly job: string;
  readonly origin: Origin | undefined;
  /** The item's key (the idempotency key or job id). */
  readonly key: string;
  /** The item itself: the original record bytes, or the JSON of the email or job. */
  readonly original: Buffer;
  readonly attempts?: number;
}

/**
 * An Avro `dev.sluice.common.DeadLetter` record for the dead-letter topic.
 *
 * @example
 * ```ts
 * await sink.write([deadLetter({ reasonCode: "VALIDATE", message: "job j1 has no email", stage: "validate", job, origin, key: "j1", original })]);
 * ```
 */
export function deadLetter(
  input: DeadLetterInput,
  topic: string,
): OutgoingRecord<Buffer> {
  const value = outreachCodecs().deadLetter.encode({
    deadLetterId: randomUUID(),
    reasonCode: input.reasonCode,
    message: input.message,
    stage: input.stage,
    job: input.job,
    originTopic: input.origin?.topic ?? "",
    originPartition: input.origin?.partition ?? -1,
    originOffset: input.origin?.offset ?? -1,
    key: Buffer.from(input.key, "utf8"),
    headers: {},
    originalBytes: input.original,
    attempts: input.attempts ?? 1,
    failedAt: new Date(),
  });
  return {
    topic,
    key: input.key,
    value,
    headers: {
      "sluice.error.code": input.reasonCode,
      "sluice.error.stage": input.stage,
      "sluice.error.message": input.message.slice(0, 500),
    },
  };
}
