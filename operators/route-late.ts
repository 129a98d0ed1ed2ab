import { connect, filter, ignoreElements, map, merge } from "rxjs";
import type { Observable, OperatorFunction } from "rxjs";
import type { Late } from "./element.js";
import { isLate } from "./element.js";
import type { Record } from "./record.js";

/**
 * Splits late records off a window operator's output into a side pipeline, subscribed once
 * with the main stream (RxJS `connect`): `handle` receives the late records (each with its own
 * ack handle, to dead-letter, count or ack); what it emits is ignored, its errors fail the
 * stream. The main stream goes on without the late elements.
 *
 * @example
 * ```ts
 * events$.pipe(
 *   tumblingWindow({ sizeMs: 60_000, aggregate: counter() }),
 *   routeLate((late$) => late$.pipe(tap((r) => r.ack.ack()))), // drop late records on purpose
 * );
 * ```
 */
export function routeLate<E, T>(
  handle: (late$: Observable<Record<T>>) => Observable<unknown>,
): OperatorFunction<E | Late<T>, E> {
  return connect((shared) =>
    merge(
      shared.pipe(filter((e): e is E => !isLate(e))),
      handle(
        shared.pipe(
          filter((e): e is Late<T> => isLate(e)),
          map((e) => e.record),
        ),
      ).pipe(ignoreElements()),
    ),
  );
}
