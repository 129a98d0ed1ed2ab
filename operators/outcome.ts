import type { Record } from "./record.js";
import type { SluiceError, Stage } from "./sluice-error.js";

/** A step that produced a value: the derived record, holding its parent's ack handle. */
export interface Succeeded<R> {
  readonly kind: "ok";
  readonly record: Record<R>;
}

/** A step that failed: the input record (its handle still pending), the error and where it happened. */
export interface Failed<T> {
  readonly kind: "failed";
  readonly record: Record<T>;
  readonly error: SluiceError;
  readonly stage: Stage;
  /** How many times the step was tried, retries included. */
  readonly attempts: number;
}

/**
 * What a per-record step produced: `ok` with the derived record, or `failed` with the input
 * record and a {@link SluiceError}. Failures flow on as values so one bad record never ends
 * the stream; `deadLetter` decides their fate.
 *
 * @example
 * ```ts
 * const o: Outcome<string, number> = { kind: "ok", record: derive(r, r.value.length) };
 * if (o.kind === "failed") console.log(o.error.code);
 * ```
 */
export type Outcome<T, R> = Succeeded<R> | Failed<T>;
