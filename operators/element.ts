import type { Record } from "./record.js";

/**
 * An event-time watermark flowing in-band: no record with a timestamp at or below `time`
 * is expected any more (Flink's meaning). Watermarks on a stream never go back.
 *
 * @example
 * ```ts
 * const wm: Watermark = watermark(1_000);
 * ```
 */
export interface Watermark {
  readonly kind: "watermark";
  readonly time: number;
}

/**
 * A record that arrived after its window was closed and cleaned up (later than the allowed
 * lateness): a window operator hands it on exactly once, with its own ack handle, for
 * {@link routeLate} or a downstream filter to deal with.
 *
 * @example
 * ```ts
 * if (isLate(e)) deadLetter(e.record);
 * ```
 */
export interface Late<T> {
  readonly kind: "late";
  readonly record: Record<T>;
}

/**
 * What flows on an event-time stream: records, unwrapped (no allocation per record), and
 * watermarks between them. Tell them apart with {@link isWatermark}.
 *
 * @example
 * ```ts
 * source$.pipe(withWatermarks({ maxOutOfOrdernessMs: 5_000 })); // Observable<Element<T>>
 * ```
 */
export type Element<T> = Record<T> | Watermark;

/**
 * Builds a watermark element.
 *
 * @example
 * ```ts
 * of(record({ value: 1, timestamp: 10 }), watermark(10));
 * ```
 */
export function watermark(time: number): Watermark {
  return { kind: "watermark", time };
}

/**
 * Builds a late element around a record.
 *
 * @example
 * ```ts
 * subscriber.next(late(r));
 * ```
 */
export function late<T>(r: Record<T>): Late<T> {
  return { kind: "late", record: r };
}

/**
 * True if the element is a watermark (records carry no `kind`).
 *
 * @example
 * ```ts
 * elements$.pipe(filter((e) => !isWatermark(e)));
 * ```
 */
export function isWatermark(e: unknown): e is Watermark {
  return (e as { kind?: unknown }).kind === "watermark";
}

/**
 * True if the element is a late record handed on by a window operator.
 *
 * @example
 * ```ts
 * out$.pipe(filter(isLate));
 * ```
 */
export function isLate<E>(e: E): e is Extract<E, Late<unknown>> {
  return (e as { kind?: unknown }).kind === "late";
}

/**
 * True if the element is a record (neither a watermark nor a late element).
 *
 * @example
 * ```ts
 * elements$.pipe(filter(isRecord));
 * ```
 */
export function isRecord<E>(e: E): e is Exclude<E, Watermark | Late<unknown>> {
  return (e as { kind?: unknown }).kind === undefined;
}
