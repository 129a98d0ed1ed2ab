/**
 * Incremental aggregation of a window's values: an accumulator is created once per window
 * (or pane), each value is added as it arrives, and the result is read when the window fires.
 * `add` and `merge` may mutate and return their first argument, never their second.
 * `merge` is needed by sliding windows (panes are combined) and session windows (sessions
 * merge).
 *
 * @example
 * ```ts
 * const average: Aggregate<number, { sum: number; n: number }, number> = {
 *   create: () => ({ sum: 0, n: 0 }),
 *   add: (acc, v) => ({ sum: acc.sum + v, n: acc.n + 1 }),
 *   merge: (a, b) => ({ sum: a.sum + b.sum, n: a.n + b.n }),
 *   result: (acc) => acc.sum / acc.n,
 * };
 * ```
 */
export interface Aggregate<T, A, R> {
  create(): A;
  add(acc: A, value: T): A;
  merge?(a: A, b: A): A;
  result(acc: A): R;
}

/** An {@link Aggregate} that can merge accumulators. */
export type MergeableAggregate<T, A, R> = Aggregate<T, A, R> & {
  merge(a: A, b: A): A;
};

const EMPTY: unique symbol = Symbol("empty");

/**
 * The `reduce` shortcut: an aggregate combining values of one type pairwise.
 *
 * @example
 * ```ts
 * tumblingWindow({ sizeMs: 1_000, aggregate: reducer((a: number, b: number) => Math.max(a, b)) });
 * ```
 */
export function reducer<T>(
  combine: (a: T, b: T) => T,
): MergeableAggregate<T, T | typeof EMPTY, T> {
  return {
    create: () => EMPTY,
    add: (acc, value) => (acc === EMPTY ? value : combine(acc, value)),
    merge: (a, b) => (a === EMPTY ? b : b === EMPTY ? a : combine(a, b)),
    result: (acc) => {
      if (acc === EMPTY)
        throw new RangeError("reducer: result of an empty window");
      return acc;
    },
  };
}

/**
 * Counts the values of a window.
 *
 * @example
 * ```ts
 * tumblingWindow({ sizeMs: 60_000, aggregate: counter() });
 * ```
 */
export function counter<T = unknown>(): MergeableAggregate<T, number, number> {
  return {
    create: () => 0,
    add: (acc) => acc + 1,
    merge: (a, b) => a + b,
    result: (acc) => acc,
  };
}
