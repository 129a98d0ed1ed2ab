import { EMPTY, catchError, from, mergeMap, tap, throwError } from "rxjs";
import type { Observable, ObservableInput, OperatorFunction } from "rxjs";
import { failed } from "./internal/settle.js";
import type { Record } from "./record.js";
import { SluiceError } from "./sluice-error.js";

/** Options of {@link ackAfter}. */
export interface AckAfterOptions<T> {
  /** Records handled at once; default 1 (one after another, in order). */
  readonly concurrency?: number;
  /**
   * Called after a failed record has been nacked, with the failure as a `SluiceError`; the
   * stream then goes on with the next record. It may throw to end the stream. Without it, a
   * failure errors the stream (after the nack).
   */
  readonly onError?: (error: SluiceError, r: Record<T>) => void;
}

/**
 * Ends a pipeline in a handler: runs `handle` for each record and acks the record when the
 * handler is done (it returned nothing, or what it returned completed), nacks it when the
 * handler throws or what it returned errors. Use it where the pipeline itself is the sink (a
 * scheduled firing's work, a call, a counter) instead of acking by hand. What the handler's
 * result emits is emitted on. A record whose work is cut short by an unsubscribe is neither
 * acked nor nacked: it is delivered again.
 *
 * @example
 * ```ts
 * await lastValueFrom(
 *   schedule.records().pipe(
 *     ackAfter((r) => runFiring(r.value), {
 *       onError: (e, r) => logger.error("firing failed", { id: r.value.id, err: e }),
 *     }),
 *   ),
 *   { defaultValue: undefined },
 * );
 * ```
 */
export function ackAfter<T, R = never>(
  handle: (r: Record<T>) => ObservableInput<R> | void,
  options: AckAfterOptions<T> = {},
): OperatorFunction<Record<T>, R> {
  const concurrency = options.concurrency ?? 1;
  if (!(Number.isInteger(concurrency) && concurrency >= 1))
    throw new SluiceError(
      "CONFIG",
      `ackAfter: concurrency must be a positive integer, got ${concurrency}`,
      { context: { field: "concurrency" } },
    );
  const onError = options.onError;
  const fail = (r: Record<T>, error: unknown): Observable<R> => {
    const e = failed(r, error);
    if (onError === undefined) return throwError(() => e);
    onError(e, r);
    return EMPTY;
  };
  return mergeMap((r: Record<T>): Observable<R> => {
    let result: ObservableInput<R> | void;
    try {
      result = handle(r);
    } catch (error) {
      return fail(r, error);
    }
    if (result === undefined) {
      r.ack.ack();
      return EMPTY;
    }
    return from(result).pipe(
      tap({ complete: () => r.ack.ack() }),
      catchError((error: unknown) => fail(r, error)),
    );
  }, concurrency);
}
