import type { SluiceError } from "./sluice-error.js";

/** Where a record came from: the position that the commit tracker will one day commit. */
export interface Origin {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

/** Record headers. Values are strings; binary headers are base64 by convention. */
export type Headers = { readonly [name: string]: string };

/**
 * The acknowledgement handle of one origin record, shared by every record derived from it.
 *
 * It counts outstanding descendants. A source creates it with one pending descendant (the
 * record itself). An operator that turns one record into `n` calls `retain(n - 1)` before it
 * emits them; each descendant is later settled exactly once with `ack()` (a sink wrote it, or
 * an operator dropped it on purpose: filter, dedupe hit, dead letter) or `nack(error)` (it
 * must be delivered again). The origin is done when the count reaches zero with no nack.
 */
export interface AckHandle {
  /** Registers `count` more pending descendants. */
  retain(count: number): void;
  /** Settles one descendant as done. */
  ack(): void;
  /** Settles one descendant as failed: the origin must be redelivered. */
  nack(error: SluiceError): void;
  /** True once the count has reached zero or a nack has been seen. */
  readonly settled: boolean;
}

/**
 * A record in a Sluice job: key, value, event time, headers, origin and its ack handle.
 *
 * @example
 * ```ts
 * const r: Record<number> = record({ key: "user-1", value: 42, timestamp: 0 });
 * r.ack.ack(); // done
 * ```
 */
export interface Record<T> {
  /** Partitioning and ordering key; `undefined` for keyless records. */
  readonly key: string | undefined;
  readonly value: T;
  /** Event time, epoch milliseconds. */
  readonly timestamp: number;
  readonly headers: Headers;
  /** The source position this record descends from, if it came from a source. */
  readonly origin: Origin | undefined;
  readonly ack: AckHandle;
}

/**
 * A handle for records that belong to nobody (generated in tests, timers): settling is a no-op.
 *
 * @example
 * ```ts
 * const r = record({ value: 1, timestamp: 0, ack: NO_ACK });
 * ```
 */
export const NO_ACK: AckHandle = Object.freeze({
  retain: () => undefined,
  ack: () => undefined,
  nack: () => undefined,
  settled: false,
});

/** Fields accepted by {@link record}. */
export interface RecordInit<T> {
  readonly key?: string | undefined;
  readonly value: T;
  readonly timestamp: number;
  readonly headers?: Headers;
  readonly origin?: Origin;
  readonly ack?: AckHandle;
}

const EMPTY_HEADERS: Headers = Object.freeze({});

/**
 * Builds a record; missing headers are empty and a missing ack handle is {@link NO_ACK}.
 *
 * @example
 * ```ts
 * const r = record({ key: "k", value: 1, timestamp: 1_000 });
 * ```
 */
export function record<T>(init: RecordInit<T>): Record<T> {
  return {
    key: init.key,
    value: init.value,
    timestamp: init.timestamp,
    headers: init.headers ?? EMPTY_HEADERS,
    origin: init.origin,
    ack: init.ack ?? NO_ACK,
  };
}

/**
 * A record derived from `parent`: same key, time, headers, origin and ack handle, new value.
 * Does not touch the handle's count: a one-to-one derivation keeps one pending descendant.
 *
 * @example
 * ```ts
 * const doubled = derive(r, r.value * 2);
 * ```
 */
export function derive<T, R>(
  parent: Record<T>,
  value: R,
  changes: Partial<Pick<Record<R>, "key" | "timestamp" | "headers">> = {},
): Record<R> {
  return {
    key: changes.key !== undefined ? changes.key : parent.key,
    value,
    timestamp: changes.timestamp ?? parent.timestamp,
    headers: changes.headers ?? parent.headers,
    origin: parent.origin,
    ack: parent.ack,
  };
}
