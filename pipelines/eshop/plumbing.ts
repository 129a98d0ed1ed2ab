import { map, type Observable, type OperatorFunction } from "rxjs";
import type { OutgoingRecord, Sink } from "../../connectors/types.js";
import { DEAD_LETTER_HEADERS } from "../../connectors/kafka/index.js";
import { writeTo, type WriteResult } from "../../connectors/write-to.js";
import type { BadRecordCounters } from "../../operators/dead-letter.js";
import {
  deadLetter,
  type DeadLetter,
  type DeadLetterOperator,
} from "../../operators/dead-letter.js";
import { flatMapAck } from "../../operators/flat-map-ack.js";
import type { Outcome } from "../../operators/outcome.js";
import { derive, record, type Record } from "../../operators/record.js";
import { SluiceError, toSluiceError } from "../../operators/sluice-error.js";
import type { EshopBus } from "./bus.js";
import {
  decodeEvent,
  encodeEvent,
  EVENT_TYPE_HEADER,
  PRIORITY_HEADER,
  topicOf,
  type AnyEvent,
  type EshopEvents,
  type EventName,
} from "./events.js";

/** A record to publish: physical topic and Avro bytes (key and headers ride on the record). */
export interface Published {
  readonly topic: string;
  readonly bytes: Buffer;
}

/** Header on `ordering-inbox` records: the logical topic the event came from. */
export const ORIGIN_TOPIC_HEADER = "eshop.origin-topic";

/** A sink of {@link Published} values over the bus's byte sink. */
export function publishSink(inner: Sink<Buffer>): Sink<Published> {
  return {
    name: inner.name,
    maxInFlight: inner.maxInFlight,
    connect: () => inner.connect(),
    write: (batch: readonly OutgoingRecord<Published>[]) =>
      inner.write(
        batch.map((o) => ({
          topic: o.value.topic,
          key: o.key,
          value: o.value.bytes,
          ...(o.headers !== undefined ? { headers: o.headers } : {}),
          ...(o.timestamp !== undefined ? { timestamp: o.timestamp } : {}),
        })),
      ),
    flush: () => inner.flush(),
    close: () => inner.close(),
  };
}

/**
 * The record publishing `event` as `type` on its seed topic, keyed by `key` (order id, or
 * product id for prices). With a parent it carries the parent's ack handle; priority is
 * propagated from the parent's header unless given.
 */
export function publishRecord<K extends EventName>(
  bus: EshopBus,
  parent: Record<unknown> | undefined,
  type: K,
  event: EshopEvents[K],
  key: string,
  options: { readonly priority?: boolean; readonly timestamp?: number } = {},
): Record<Published> {
  const priority =
    options.priority ?? parent?.headers[PRIORITY_HEADER] === "true";
  const headers = {
    [EVENT_TYPE_HEADER]: type,
    ...(priority ? { [PRIORITY_HEADER]: "true" } : {}),
  };
  const value: Published = {
    topic: bus.topic(topicOf(type)),
    bytes: encodeEvent(type, event),
  };
  const timestamp = options.timestamp ?? Date.now();
  return parent === undefined
    ? record({ key, value, timestamp, headers })
    : derive(parent, value, { key, headers, timestamp });
}

/** Writes published records (acked after the write). */
export function publishTo(
  sink: Sink<Published>,
): OperatorFunction<Record<Published>, WriteResult> {
  return writeTo(sink, { maxBatch: 200, maxWaitMs: 2 });
}

/** Decodes a bus record into an event; failures become `failed` outcomes (stage decode). */
export function decodeRecords(
  bus: EshopBus,
): OperatorFunction<Record<Buffer>, Outcome<Buffer, AnyEvent>> {
  return map((r): Outcome<Buffer, AnyEvent> => {
    const physical = r.origin?.topic ?? "";
    const logical = bus.logical(physical);
    const topic: string =
      logical === "ordering-inbox"
        ? (r.headers[ORIGIN_TOPIC_HEADER] ?? "ordering-inbox")
        : (logical ?? physical);
    try {
      if (!Buffer.isBuffer(r.value))
        throw new SluiceError("DECODE", `${topic}: record value is not bytes`);
      return {
        kind: "ok",
        record: derive(r, decodeEvent(topic, r.headers, r.value)),
      };
    } catch (error) {
      return {
        kind: "failed",
        record: r,
        error: toSluiceError(error, "DECODE", { stage: "decode" }),
        stage: "decode",
        attempts: 1,
      };
    }
  });
}

/**
 * Sends failed records to `eshop-dead-letters`: the original bytes (`bytesOf` the failed
 * value: the raw bytes for a decode failure, the event re-encoded for a processing failure)
 * and headers, plus the reason and origin in `sluice.error.*` / `sluice.origin.*` headers (as
 * the Kafka source's dead letters), acked once written.
 */
export function toDeadLetters<T, R>(
  bus: EshopBus,
  sink: Sink<Published>,
  counters: BadRecordCounters,
  bytesOf: (value: T) => Buffer,
): DeadLetterOperator<T, R> {
  return deadLetter<T, R>({
    policy: "DEAD_LETTER",
    counters,
    sink: (dead$: Observable<Record<DeadLetter<T>>>) =>
      dead$.pipe(
        map((d) => {
          const { reason, value } = d.value;
          return derive(
            d,
            {
              topic: bus.topic("eshop-dead-letters"),
              bytes: bytesOf(value),
            } satisfies Published,
            {
              headers: {
                ...d.headers,
                [DEAD_LETTER_HEADERS.code]: reason.code,
                [DEAD_LETTER_HEADERS.message]: reason.message,
                [DEAD_LETTER_HEADERS.stage]: reason.stage,
                [DEAD_LETTER_HEADERS.topic]: reason.origin?.topic ?? "",
                [DEAD_LETTER_HEADERS.partition]: String(
                  reason.origin?.partition ?? -1,
                ),
                [DEAD_LETTER_HEADERS.offset]: String(
                  reason.origin?.offset ?? -1,
                ),
              },
            },
          );
        }),
        publishTo(sink),
      ),
  });
}

/** The bytes of a raw record value (decode failures). */
export const rawBytes = (value: Buffer): Buffer =>
  Buffer.isBuffer(value) ? value : Buffer.alloc(0);

/** The bytes of a decoded event, re-encoded (Avro is deterministic: the same bytes). */
export const eventBytes = (value: AnyEvent): Buffer =>
  encodeEvent(value.type, value.event as never);

/**
 * One record of several outputs → one record each, with the input's origin; the input is
 * done when every output is (acked at once when there are none).
 */
export function fanOut<T>(): OperatorFunction<
  Record<readonly Record<T>[]>,
  Record<T>
> {
  return flatMapAck((r: Record<readonly Record<T>[]>) => r.value);
}
