import { filter } from "rxjs";
import type { OperatorFunction } from "rxjs";
import { failed, handleOf } from "./internal/settle.js";

/**
 * RxJS `filter` for records: keeps the elements `predicate` accepts and acks each one it
 * drops, so a dropped record counts as done and the commit point moves past it. A plain
 * `filter` would leave it pending forever (the source then holds its partition's commit
 * and its in-flight cap, and warns on close).
 *
 * Works on any element stream: a dropped `Record` is acked, a dropped `Late` acks its
 * record, a dropped watermark (or any value without a handle) is simply dropped. A predicate
 * that throws nacks the element's record and errors the stream with the error as a
 * `SluiceError` (code `PROCESS`, with the record's origin).
 *
 * @example
 * ```ts
 * source.records().pipe(
 *   filterAck((r) => r.value.country === "NL"), // the rest is acked, not stranded
 *   writeTo(sink, { maxBatch: 100 }),
 * );
 * windowed$.pipe(filterAck(isRecord)); // late records are acked (dropped on purpose)
 * ```
 */
export function filterAck<E, S extends E = E>(
  predicate:
    | ((element: E, index: number) => element is S)
    | ((element: E, index: number) => boolean),
): OperatorFunction<E, S> {
  return filter((element: E, index: number): element is S => {
    let keep: boolean;
    try {
      keep = predicate(element, index);
    } catch (error) {
      throw failed(element, error);
    }
    if (!keep) handleOf(element)?.ack();
    return keep;
  });
}
