export { closedError } from "../internal/errors.js";
import { SluiceError } from "../../operators/sluice-error.js";
import type { Origin } from "../../operators/record.js";

/**
 * Bytes the source's `decode` rejected, with the record's origin.
 *
 * @example
 * ```ts
 * throw decodeError(origin, cause);
 * ```
 */
export function decodeError(origin: Origin, cause: unknown): SluiceError {
  if (cause instanceof SluiceError && cause.code === "DECODE") return cause;
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new SluiceError(
    "DECODE",
    `${origin.topic}[${origin.partition}]@${origin.offset}: cannot decode value: ${reason}`,
    {
      cause,
      context: {
        topic: origin.topic,
        partition: origin.partition,
        offset: origin.offset,
        stage: "decode",
      },
    },
  );
}

/**
 * A record without a topic given to a sink that has no default topic.
 *
 * @example
 * ```ts
 * throw missingTopic("kafka");
 * ```
 */
export function missingTopic(name: string): SluiceError {
  return new SluiceError(
    "CONFIG",
    `${name}: record has no topic and kafka.sink.topic is not set`,
    { context: { field: "topic", stage: "sink" } },
  );
}

/** Header names that carry a dead letter's reason and origin. */
export const DEAD_LETTER_HEADERS = Object.freeze({
  code: "sluice.error.code",
  message: "sluice.error.message",
  stage: "sluice.error.stage",
  topic: "sluice.origin.topic",
  partition: "sluice.origin.partition",
  offset: "sluice.origin.offset",
} as const);
