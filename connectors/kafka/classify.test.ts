import kafkajs from "kafkajs";
import { describe, expect, it } from "vitest";
import { SluiceError } from "../../operators/sluice-error.js";
import { classifyKafkaError, toKafkaError } from "./classify.js";
import type { Classification } from "./classify.js";

/** A driver error as both drivers shape protocol and librdkafka failures: a numeric code. */
const coded = (code: number, retriable?: boolean): Error =>
  Object.assign(new Error(`code ${code}`), {
    code,
    ...(retriable === undefined ? {} : { retriable }),
  });

const table: readonly [string, unknown, Classification][] = [
  [
    "DeleteGroups with a non-empty group (68, not retriable though kafkajs says so)",
    new kafkajs.KafkaJSDeleteGroupsError("Error in DeleteGroups", [
      {
        groupId: "g",
        errorCode: 68,
        error: coded(68, false) as kafkajs.KafkaJSError,
      },
    ]),
    { code: "UNAVAILABLE", retryable: false },
  ],
  [
    "DeleteGroups with a coordinator still loading (14)",
    new kafkajs.KafkaJSDeleteGroupsError("Error in DeleteGroups", [
      {
        groupId: "g",
        errorCode: 68,
        error: coded(68, false) as kafkajs.KafkaJSError,
      },
      { groupId: "h", errorCode: 14, error: coded(14) as kafkajs.KafkaJSError },
    ]),
    { code: "UNAVAILABLE", retryable: true },
  ],
  [
    "NOT_LEADER_OR_FOLLOWER (6)",
    coded(6),
    { code: "UNAVAILABLE", retryable: true },
  ],
  [
    "UNKNOWN_TOPIC_OR_PARTITION (3)",
    coded(3),
    { code: "NOT_FOUND", retryable: true },
  ],
  ["REQUEST_TIMED_OUT (7)", coded(7), { code: "TIMEOUT", retryable: true }],
  ["MESSAGE_TOO_LARGE (10)", coded(10), { code: "VALIDATE", retryable: false }],
  [
    "REBALANCE_IN_PROGRESS (27)",
    coded(27),
    { code: "CONFLICT", retryable: true },
  ],
  [
    "ILLEGAL_GENERATION (22)",
    coded(22),
    { code: "CONFLICT", retryable: false },
  ],
  [
    "TOPIC_ALREADY_EXISTS (36)",
    coded(36),
    { code: "CONFLICT", retryable: false },
  ],
  [
    "TOPIC_AUTHORIZATION_FAILED (29)",
    coded(29),
    { code: "CONFIG", retryable: false },
  ],
  [
    "INVALID_PRODUCER_EPOCH (47)",
    coded(47),
    { code: "CONFLICT", retryable: false },
  ],
  [
    "librdkafka _TRANSPORT (-195)",
    coded(-195),
    { code: "CONNECTION", retryable: true },
  ],
  [
    "librdkafka _ALL_BROKERS_DOWN (-187)",
    coded(-187),
    { code: "CONNECTION", retryable: true },
  ],
  [
    "librdkafka _MSG_TIMED_OUT (-192)",
    coded(-192),
    { code: "TIMEOUT", retryable: true },
  ],
  [
    "librdkafka _QUEUE_FULL (-184)",
    coded(-184),
    { code: "BACKPRESSURE", retryable: true },
  ],
  [
    "librdkafka _STATE (-172)",
    coded(-172),
    { code: "INTERNAL", retryable: false },
  ],
  [
    "an unlisted code the driver calls retriable",
    coded(9999, true),
    { code: "UNAVAILABLE", retryable: true },
  ],
  [
    "an unlisted code the driver calls fatal",
    coded(9999, false),
    { code: "UNAVAILABLE", retryable: false },
  ],
  [
    "a kafkajs connection error (its code is a Node string)",
    new kafkajs.KafkaJSConnectionError(
      "Connection error: connect ECONNREFUSED",
      { code: "ECONNREFUSED" },
    ),
    { code: "CONNECTION", retryable: true },
  ],
  [
    "a kafkajs request timeout",
    new kafkajs.KafkaJSRequestTimeoutError("Request timed out"),
    { code: "TIMEOUT", retryable: true },
  ],
  [
    "kafkajs retries exhausted on a leader change: the cause's code, still retryable (the caller's deadline decides)",
    new kafkajs.KafkaJSNumberOfRetriesExceeded(coded(6), {
      retryCount: 5,
      retryTime: 100,
    }),
    { code: "UNAVAILABLE", retryable: true },
  ],
  [
    "kafkajs retries exhausted on a rebalance: final (not an outage)",
    new kafkajs.KafkaJSNumberOfRetriesExceeded(coded(27), {
      retryCount: 5,
      retryTime: 100,
    }),
    { code: "CONFLICT", retryable: false },
  ],
  [
    "kafkajs' outer retrier wrapping a refused connection (the consumer's crash on a broker restart)",
    new kafkajs.KafkaJSNonRetriableError(
      new kafkajs.KafkaJSConnectionError("Connection error: ECONNREFUSED"),
      // The types omit the options the driver passes.
      ...([
        {
          cause: new kafkajs.KafkaJSConnectionError(
            "Connection error: ECONNREFUSED",
          ),
        },
      ] as unknown as []),
    ),
    { code: "CONNECTION", retryable: true },
  ],
  [
    "a plain KafkaJSNonRetriableError without a cause stays final",
    new kafkajs.KafkaJSNonRetriableError("bad"),
    { code: "UNAVAILABLE", retryable: false },
  ],
  [
    "kafkajs cannot find the group coordinator (a broker restart)",
    new kafkajs.KafkaJSGroupCoordinatorNotFound(
      // The types declare no arguments; the driver passes the message.
      ...(["Failed to find group coordinator"] as unknown as []),
    ),
    { code: "UNAVAILABLE", retryable: true },
  ],
  [
    "the coordinator is loading (14), as CI met it in groupOffsets",
    coded(14, true),
    { code: "UNAVAILABLE", retryable: true },
  ],
  [
    "a SluiceError keeps its own code",
    new SluiceError("DECODE", "bad"),
    { code: "DECODE", retryable: false },
  ],
  ["a thrown string", "boom", { code: "INTERNAL", retryable: false }],
  ["a plain Error", new Error("?"), { code: "INTERNAL", retryable: false }],
];

describe("classifyKafkaError", () => {
  it.each(table)("classifies %s", (_what, error, expected) => {
    expect(classifyKafkaError(error)).toEqual(expected);
  });
});

describe("toKafkaError", () => {
  it("wraps a driver error with its classification, context and cause", () => {
    const cause = coded(6);
    const e = toKafkaError(cause, "kafka:out: write failed", {
      topic: "out",
      stage: "sink",
    });
    expect(e).toBeInstanceOf(SluiceError);
    expect(e.code).toBe("UNAVAILABLE");
    expect(e.retryable).toBe(true);
    expect(e.cause).toBe(cause);
    expect(e.context).toEqual({ topic: "out", stage: "sink" });
    expect(e.message).toBe("kafka:out: write failed: code 6");
  });

  it("passes a SluiceError through unchanged", () => {
    const e = new SluiceError("CLOSED", "closed");
    expect(toKafkaError(e, "x")).toBe(e);
  });
});
