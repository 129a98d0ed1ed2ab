import { mergeMap } from "rxjs";
import type { OperatorFunction } from "rxjs";
import { splitAck } from "./internal/child-ack.js";
import { failed } from "./internal/settle.js";
import type { Record } from "./record.js";

/**
 * One record in, zero or more out, with the acknowledgement done for you: the input is
 * settled when every output is (acked when all are acked, nacked on the first nack), or acked
 * at once when `project` returns none.
 *
 * `project` returns the output records, usually built with `derive(r, value)` (or with a new
 * key, time or headers: `derive(r, value, { key })`). Each output is emitted with the
 * input's origin and a handle of its own, so one output acked twice never counts for
 * another. Outputs are emitted synchronously, in order. A `project` that throws nacks the
 * input and errors the stream with the error as a `SluiceError` (code `PROCESS`).
 *
 * @example
 * ```ts
 * orders$.pipe(
 *   flatMapAck((r) => r.value.lines.map((line) => derive(r, line, { key: line.sku }))),
 *   writeTo(linesSink, { maxBatch: 200 }), // the order is done once every line is written
 * );
 * ```
 */
export function flatMapAck<T, R>(
  project: (r: Record<T>, index: number) => Iterable<Record<R>>,
): OperatorFunction<Record<T>, Record<R>> {
  return mergeMap((r: Record<T>, index: number): Record<R>[] => {
    let outs: Record<R>[];
    try {
      outs = [...project(r, index)];
    } catch (error) {
      throw failed(r, error);
    }
    const handles = splitAck(r.ack, outs.length);
    for (let i = 0; i < outs.length; i++)
      outs[i] = { ...outs[i]!, origin: r.origin, ack: handles[i]! };
    return outs;
  });
}
