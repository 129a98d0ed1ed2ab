import type { FetchedBatch, FetchedMessage } from "../client.js";
import { headersToStrings } from "./headers.js";
import type { HeaderValue } from "./headers.js";

/**
 * The part of an `eachBatch` payload that kafkajs and @confluentinc/kafka-javascript (its
 * KafkaJS-compatible API) hand over alike.
 * @internal
 */
export interface KafkaJsCompatibleBatchPayload {
  readonly batch: {
    readonly topic: string;
    readonly partition: number;
    /** Both drivers report it; confluent says `-1001` when it does not know. */
    readonly highWatermark?: string;
    readonly messages: readonly {
      readonly offset: string;
      readonly key?: Buffer | null;
      readonly value: Buffer | null;
      readonly timestamp: string;
      readonly headers?: {
        readonly [name: string]: HeaderValue | readonly HeaderValue[];
      };
    }[];
  };
  resolveOffset(offset: string): void;
  isStale(): boolean;
}

/**
 * A driver's `eachBatch` payload as the {@link FetchedBatch} the source takes.
 * @internal
 */
export function fetchedBatch(
  payload: KafkaJsCompatibleBatchPayload,
): FetchedBatch {
  const { batch } = payload;
  const fetched = batch.messages;
  const messages = new Array<FetchedMessage>(fetched.length);
  for (let i = 0; i < fetched.length; i++) {
    const m = fetched[i]!;
    messages[i] = {
      offset: Number(m.offset),
      key: m.key ?? null,
      value: m.value ?? null,
      timestamp: Number(m.timestamp),
      headers: headersToStrings(m.headers),
    };
  }
  const hw =
    batch.highWatermark === undefined ? NaN : Number(batch.highWatermark);
  return {
    topic: batch.topic,
    partition: batch.partition,
    messages,
    ...(Number.isFinite(hw) && hw >= 0 ? { highWatermark: hw } : {}),
    resolve: (offset) => payload.resolveOffset(String(offset)),
    isStale: () => payload.isStale(),
  };
}
