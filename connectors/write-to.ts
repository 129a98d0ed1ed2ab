import {
  asyncScheduler,
  bufferTime,
  catchError,
  defer,
  filter,
  map,
  mergeMap,
  of,
} from "rxjs";
import type { Observable, OperatorFunction, SchedulerLike } from "rxjs";
import type { Record } from "../operators/record.js";
import { SluiceError } from "../operators/sluice-error.js";
import type { OutgoingRecord, Sink } from "./types.js";

/** Options of {@link writeTo}. */
export interface WriteToOptions<T> {
  /** Most records per `sink.write` call. */
  readonly maxBatch: number;
  /** Longest a record waits for its batch to fill, in ms (> 0). Default 10. */
  readonly maxWaitMs?: number;
  /** Scheduler of the batching timer. Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
  /** Destination topic: fixed, or chosen per record. Default: the sink's own topic. */
  readonly topic?: string | ((record: Record<T>) => string | undefined);
  /** Full control over the outgoing record; overrides `topic`. */
  readonly toOutgoing?: (record: Record<T>) => OutgoingRecord<T>;
}

/** What {@link writeTo} emits per batch: how many records it held and whether the write succeeded. */
export type WriteResult =
  | { readonly ok: true; readonly count: number }
  | { readonly ok: false; readonly count: number; readonly error: SluiceError };

function configError(field: string, message: string): SluiceError {
  return new SluiceError("CONFIG", `writeTo.${field} ${message}`, {
    context: { field },
  });
}

/**
 * Writes records to a sink in batches and settles their ack handles: ack after the batch is
 * written, nack (a retryable `SluiceError`) when the write fails, so the source redelivers.
 * Emits one {@link WriteResult} per batch; a failed write does not end the stream.
 *
 * Batches close at `maxBatch` records or after `maxWaitMs`; at most `sink.maxInFlight`
 * writes run at once. Nothing here buffers without bound: records waiting for a write are
 * unsettled, so they count against the source's `maxInFlight` and the source pauses.
 * With `sink.maxInFlight > 1` batches may complete out of order; per-key order then rests
 * on the sink (the memory sink appends in call order).
 *
 * @example
 * ```ts
 * source.records().pipe(
 *   map((r) => derive(r, enrich(r.value))),
 *   writeTo(memorySink(log, { topic: "enriched" }), { maxBatch: 100, maxWaitMs: 20 }),
 * ).subscribe((result) => metrics.written.inc(result.count));
 * ```
 */
export function writeTo<T>(
  sink: Sink<T>,
  options: WriteToOptions<T>,
): OperatorFunction<Record<T>, WriteResult> {
  const { maxBatch } = options;
  const maxWaitMs = options.maxWaitMs ?? 10;
  if (!Number.isInteger(maxBatch) || maxBatch < 1)
    throw configError(
      "maxBatch",
      `must be a positive integer, got ${maxBatch}`,
    );
  if (!(maxWaitMs > 0))
    throw configError("maxWaitMs", `must be greater than 0, got ${maxWaitMs}`);
  if (!Number.isInteger(sink.maxInFlight) || sink.maxInFlight < 1)
    throw configError(
      "sink.maxInFlight",
      `must be a positive integer, got ${sink.maxInFlight}`,
    );
  const scheduler = options.scheduler ?? asyncScheduler;
  const topic = options.topic;
  const toOutgoing =
    options.toOutgoing ??
    ((r: Record<T>): OutgoingRecord<T> => {
      const t = typeof topic === "function" ? topic(r) : topic;
      return {
        key: r.key,
        value: r.value,
        timestamp: r.timestamp,
        headers: r.headers,
        ...(t !== undefined ? { topic: t } : {}),
      };
    });

  const writeBatch = (batch: readonly Record<T>[]): Observable<WriteResult> =>
    defer(() => sink.write(batch.map(toOutgoing))).pipe(
      map((): WriteResult => {
        for (const r of batch) r.ack.ack();
        return { ok: true, count: batch.length };
      }),
      catchError((error: unknown) => {
        const e =
          error instanceof SluiceError
            ? error
            : new SluiceError(
                "UNAVAILABLE",
                `${sink.name}: write failed: ${error instanceof Error ? error.message : String(error)}`,
                {
                  retryable: true,
                  cause: error,
                  context: { stage: "sink" },
                },
              );
        for (const r of batch) r.ack.nack(e);
        return of<WriteResult>({ ok: false, count: batch.length, error: e });
      }),
    );

  return (source) =>
    source.pipe(
      bufferTime<Record<T>>(maxWaitMs, null, maxBatch, scheduler),
      filter((batch) => batch.length > 0),
      mergeMap(writeBatch, sink.maxInFlight),
    );
}
