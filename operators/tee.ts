import { connect, map, merge } from "rxjs";
import type { OperatorFunction } from "rxjs";
import { splitAck } from "./internal/child-ack.js";
import type { AckHandle, Record } from "./record.js";
import { SluiceError } from "./sluice-error.js";

/**
 * Broadcasts every record to each of `branches` (typically one `writeTo(sink)` each) and
 * merges what they emit; the source is subscribed once (RxJS `connect`). Each branch gets
 * its own copy of the record with its own handle: the record is done only when every branch
 * has settled its copy (a nack in any branch nacks it), so two sinks never need a hand-made
 * `retain`. An error in any branch errors the stream.
 *
 * @example
 * ```ts
 * recommendations$.pipe(
 *   tee(
 *     writeTo(cassandraSink, { maxBatch: 200 }),
 *     writeTo(postgresSink, { maxBatch: 200 }),
 *   ),
 * ); // a recommendation is done when both tables have it
 * ```
 */
export function tee<T, R>(
  ...branches: readonly OperatorFunction<Record<T>, R>[]
): OperatorFunction<Record<T>, R> {
  if (branches.length === 0)
    throw new SluiceError(
      "CONFIG",
      "tee: branches must hold at least one operator, got none",
      { context: { field: "branches" } },
    );
  const n = branches.length;
  return (source) =>
    source.pipe(
      // Split before anything is multicast: a branch that acks synchronously must not
      // finish the record before the other branches have seen it.
      map((r): readonly Record<T>[] => {
        const handles: AckHandle[] = splitAck(r.ack, n);
        return handles.map((ack) => ({ ...r, ack }));
      }),
      connect((copies) =>
        merge(
          ...branches.map((branch, i) =>
            copies.pipe(
              map((c) => c[i]!),
              branch,
            ),
          ),
        ),
      ),
    );
}
