import type { SluiceError } from "../../operators/sluice-error.js";
import type { TopicPartition } from "../types.js";
import type { FetchedMessage, ProducedMessage } from "./client.js";
import { DEAD_LETTER_HEADERS } from "./errors.js";

/**
 * The dead letter of a fetched record: its raw key and bytes, its own headers, and the
 * reason and origin in `sluice.*` headers, so it can be found, understood and replayed.
 * @internal
 */
export function deadLetterMessage(
  topic: string,
  origin: TopicPartition,
  message: FetchedMessage,
  error: SluiceError,
): ProducedMessage {
  return {
    topic,
    key: message.key,
    value: message.value ?? Buffer.alloc(0),
    timestamp: message.timestamp,
    headers: {
      ...message.headers,
      [DEAD_LETTER_HEADERS.code]: error.code,
      [DEAD_LETTER_HEADERS.message]: error.message,
      [DEAD_LETTER_HEADERS.stage]: error.context.stage ?? "decode",
      [DEAD_LETTER_HEADERS.topic]: origin.topic,
      [DEAD_LETTER_HEADERS.partition]: String(origin.partition),
      [DEAD_LETTER_HEADERS.offset]: String(message.offset),
    },
  };
}
