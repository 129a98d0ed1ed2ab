import kafkajs from "kafkajs";
import { SluiceError } from "../../operators/sluice-error.js";
import type { ErrorContext } from "../../operators/sluice-error.js";
import type { Classification } from "../internal/classification.js";
import {
  classification as c,
  classifiedError,
} from "../internal/classification.js";

export type { Classification };

/**
 * Kafka protocol error codes (positive, shared by both drivers) and librdkafka's local
 * codes (negative, from the confluent driver), by number. Codes not listed fall back to
 * the driver's own `retriable` flag.
 */
export const ERROR_CODES: ReadonlyMap<number, Classification> = new Map([
  [1, c("NOT_FOUND", false)], // OFFSET_OUT_OF_RANGE
  [2, c("DECODE", true)], // CORRUPT_MESSAGE
  [3, c("NOT_FOUND", true)], // UNKNOWN_TOPIC_OR_PARTITION
  [5, c("UNAVAILABLE", true)], // LEADER_NOT_AVAILABLE
  [6, c("UNAVAILABLE", true)], // NOT_LEADER_OR_FOLLOWER
  [7, c("TIMEOUT", true)], // REQUEST_TIMED_OUT
  [10, c("VALIDATE", false)], // MESSAGE_TOO_LARGE
  [14, c("UNAVAILABLE", true)], // COORDINATOR_LOAD_IN_PROGRESS
  [15, c("UNAVAILABLE", true)], // COORDINATOR_NOT_AVAILABLE
  [16, c("UNAVAILABLE", true)], // NOT_COORDINATOR
  [17, c("CONFIG", false)], // INVALID_TOPIC_EXCEPTION
  [19, c("UNAVAILABLE", true)], // NOT_ENOUGH_REPLICAS
  [20, c("UNAVAILABLE", true)], // NOT_ENOUGH_REPLICAS_AFTER_APPEND
  [22, c("CONFLICT", false)], // ILLEGAL_GENERATION
  [25, c("CONFLICT", false)], // UNKNOWN_MEMBER_ID
  [27, c("CONFLICT", true)], // REBALANCE_IN_PROGRESS
  [29, c("CONFIG", false)], // TOPIC_AUTHORIZATION_FAILED
  [30, c("CONFIG", false)], // GROUP_AUTHORIZATION_FAILED
  [36, c("CONFLICT", false)], // TOPIC_ALREADY_EXISTS
  [37, c("CONFIG", false)], // INVALID_PARTITIONS
  [38, c("CONFIG", false)], // INVALID_REPLICATION_FACTOR
  [40, c("CONFIG", false)], // INVALID_CONFIG
  [42, c("CONFIG", false)], // INVALID_REQUEST
  [45, c("INTERNAL", false)], // OUT_OF_ORDER_SEQUENCE_NUMBER
  [46, c("CONFLICT", false)], // DUPLICATE_SEQUENCE_NUMBER
  [47, c("CONFLICT", false)], // INVALID_PRODUCER_EPOCH
  [69, c("NOT_FOUND", false)], // GROUP_ID_NOT_FOUND
  [-150, c("INTERNAL", false)], // librdkafka _FATAL
  [-172, c("INTERNAL", false)], // librdkafka _STATE
  [-184, c("BACKPRESSURE", true)], // librdkafka _QUEUE_FULL
  [-185, c("TIMEOUT", true)], // librdkafka _TIMED_OUT
  [-186, c("CONFIG", false)], // librdkafka _INVALID_ARG
  [-187, c("CONNECTION", true)], // librdkafka _ALL_BROKERS_DOWN
  [-188, c("NOT_FOUND", true)], // librdkafka _UNKNOWN_TOPIC
  [-190, c("NOT_FOUND", true)], // librdkafka _UNKNOWN_PARTITION
  [-192, c("TIMEOUT", true)], // librdkafka _MSG_TIMED_OUT
  [-195, c("CONNECTION", true)], // librdkafka _TRANSPORT
]);

/** Codes of a broker that is down, moving or slow. */
const OUTAGE = new Set(["CONNECTION", "UNAVAILABLE", "TIMEOUT"]);

const field = (error: object, name: string): unknown =>
  (error as { readonly [k: string]: unknown })[name];

/**
 * Maps a driver error to its {@link Classification}: by the numeric Kafka or librdkafka
 * code where there is one, by kafkajs error class otherwise, never by name or message.
 *
 * @example
 * ```ts
 * classifyKafkaError(e); // { code: "UNAVAILABLE", retryable: true } for NOT_LEADER_OR_FOLLOWER
 * ```
 */
export function classifyKafkaError(error: unknown): Classification {
  if (error instanceof SluiceError) return c(error.code, error.retryable);
  if (typeof error !== "object" || error === null) return c("INTERNAL", false);
  const code = field(error, "code");
  if (typeof code === "number") {
    const known = ERROR_CODES.get(code);
    if (known !== undefined) return known;
  }
  if (error instanceof kafkajs.KafkaJSNumberOfRetriesExceeded) {
    // kafkajs' own budget (seconds) is spent; a broker that is down or moving may still
    // come back, so an outage stays retryable and the caller's deadline decides
    // (connectors/internal/retry.ts). Anything else is final.
    const inner = classifyKafkaError(error.cause);
    const code = inner.code === "INTERNAL" ? "UNAVAILABLE" : inner.code;
    return c(code, inner.retryable && OUTAGE.has(code));
  }
  if (
    Object.getPrototypeOf(error) ===
      kafkajs.KafkaJSNonRetriableError.prototype &&
    field(error, "cause") !== undefined
  ) {
    // kafkajs' outer retrier wraps what an inner one gave up on (the consumer's crash on
    // a broker restart: `KafkaJSNonRetriableError: Connection error: ECONNREFUSED`).
    const inner = classifyKafkaError(field(error, "cause"));
    return c(inner.code, inner.retryable && OUTAGE.has(inner.code));
  }
  if (error instanceof kafkajs.KafkaJSDeleteGroupsError) {
    // kafkajs marks it retriable whatever the groups said; the answer is in each group's
    // error (NON_EMPTY_GROUP and GROUP_ID_NOT_FOUND will not change by waiting).
    const groups = field(error, "groups");
    const inner = (Array.isArray(groups) ? (groups as unknown[]) : []).map(
      (g) =>
        classifyKafkaError(
          typeof g === "object" && g !== null ? field(g, "error") : undefined,
        ),
    );
    const retry = inner.find((x) => x.retryable);
    return retry ?? inner[0] ?? c("INTERNAL", false);
  }
  if (error instanceof kafkajs.KafkaJSGroupCoordinatorNotFound)
    return c("UNAVAILABLE", true); // the coordinator's broker is down or moving
  if (error instanceof kafkajs.KafkaJSMetadataNotLoaded)
    return c("UNAVAILABLE", true);
  if (
    error instanceof kafkajs.KafkaJSRequestTimeoutError ||
    error instanceof kafkajs.KafkaJSTimeout ||
    error instanceof kafkajs.KafkaJSLockTimeout
  )
    return c("TIMEOUT", true);
  if (
    error instanceof kafkajs.KafkaJSConnectionError ||
    error instanceof kafkajs.KafkaJSBrokerNotFound
  )
    return c("CONNECTION", true);
  if (error instanceof kafkajs.KafkaJSSASLAuthenticationError)
    return c("CONFIG", false);
  const retriable = field(error, "retriable");
  if (typeof retriable === "boolean") return c("UNAVAILABLE", retriable);
  return c("INTERNAL", false);
}

/**
 * Wraps a driver error into a {@link SluiceError} with its classification, keeping it as
 * the cause.
 *
 * @example
 * ```ts
 * throw toKafkaError(e, "kafka:orders: send failed", { stage: "sink", topic: "orders" });
 * ```
 */
export function toKafkaError(
  error: unknown,
  message: string,
  context: ErrorContext = {},
): SluiceError {
  return classifiedError(error, classifyKafkaError, message, context);
}
