import { connect, filter, map, merge } from "rxjs";
import type { OperatorFunction } from "rxjs";
import { failed } from "./internal/settle.js";
import type { Record } from "./record.js";
import { SluiceError } from "./sluice-error.js";

/** One branch of {@link route}: which records it takes and what it does with them. Build it with {@link branch}. */
export interface RouteBranch<T, R> {
  readonly when: (r: Record<T>) => boolean;
  readonly then: OperatorFunction<Record<T>, R>;
}

/**
 * A branch of {@link route}: the records `when` accepts go through `then`. With a type
 * guard, `then` sees the narrowed records.
 *
 * @example
 * ```ts
 * branch((r): r is Record<Stats> => r.value.kind === "stats", writeTo(statsSink, { maxBatch: 500 }));
 * ```
 */
export function branch<T, R, S extends T = T>(
  when: ((r: Record<T>) => r is Record<S>) | ((r: Record<T>) => boolean),
  then: OperatorFunction<Record<S>, R>,
): RouteBranch<T, R> {
  // `then` only ever receives the records `when` accepted, which are Record<S>.
  return { when, then: then as unknown as OperatorFunction<Record<T>, R> };
}

interface Routed<T> {
  readonly to: number;
  readonly r: Record<T>;
}

/**
 * Partitions records among branches: each record goes to the first branch whose `when`
 * accepts it, and a record no branch accepts is acked (dropped on purpose, so it never holds
 * the commit). The source is subscribed once (RxJS `connect`) and the branches' outputs are
 * merged; an error in any branch errors the stream. A `when` that throws nacks the record and
 * errors the stream with the error as a `SluiceError` (code `PROCESS`). To send one record to
 * several branches, use `tee`.
 *
 * @example
 * ```ts
 * outputs$.pipe(
 *   route(
 *     branch(isRecommendations, writeTo(recsSink, { maxBatch: 200 })),
 *     branch(isStats, writeTo(statsSink, { maxBatch: 500 })),
 *   ), // any other kind is acked
 * );
 * ```
 */
export function route<T, R>(
  ...branches: readonly RouteBranch<T, R>[]
): OperatorFunction<Record<T>, R> {
  if (branches.length === 0)
    throw new SluiceError(
      "CONFIG",
      "route: branches must hold at least one branch, got none",
      { context: { field: "branches" } },
    );
  const choose = (r: Record<T>): number => {
    try {
      return branches.findIndex((b) => b.when(r));
    } catch (error) {
      throw failed(r, error);
    }
  };
  return (source) =>
    source.pipe(
      map((r): Routed<T> => ({ to: choose(r), r })),
      filter((x) => {
        if (x.to >= 0) return true;
        x.r.ack.ack();
        return false;
      }),
      connect((routed) =>
        merge(
          ...branches.map((b, i) =>
            routed.pipe(
              filter((x) => x.to === i),
              map((x) => x.r),
              b.then,
            ),
          ),
        ),
      ),
    );
}
