import { ignoreElements, lastValueFrom, map, reduce } from "rxjs";
import { ackAfter } from "../../operators/ack-after.js";
import { branch, route } from "../../operators/route.js";
import { SluiceError } from "../../operators/sluice-error.js";
import { writeTo } from "../../connectors/write-to.js";
import type { OutgoingRecord, Sink, Source } from "../../connectors/types.js";
import { derive, type Record } from "../../operators/record.js";
import type { Logger } from "../../runtime/log.js";
import type { ActionLog } from "./action-log.js";
import { outreachCodecs } from "./avro.js";
import type { BadRecordCounters } from "../../operators/dead-letter.js";
import { countDeadLetters, deadLetter } from "./dead-letters.js";
import type { DeliveryResult } from "./types.js";

/** A result as read: decoded, or its bytes and why they did not decode. */
interface Undecodable {
  readonly ok: false;
  readonly bytes: Buffer;
  readonly message: string;
}
type Decoded =
  { readonly ok: true; readonly value: DeliveryResult } | Undecodable;
const isDecoded = (
  r: Record<Decoded>,
): r is Record<{ readonly ok: true; readonly value: DeliveryResult }> =>
  r.value.ok;

/** Counts of the results job. */
export interface ResultsStats {
  delivered: number;
  failed: number;
  deadLettered: number;
}

export const newResultsStats = (): ResultsStats => ({
  delivered: 0,
  failed: 0,
  deadLettered: 0,
});

/** What the results job needs. */
export interface ResultsDeps {
  readonly jobName: string;
  readonly source: Source<Buffer>;
  readonly actionLog: ActionLog;
  readonly deadLetters: Sink<Buffer>;
  readonly deadLetterTopic: string;
  readonly logger: Logger;
  readonly stats: ResultsStats;
  /** Dead letters by reason code, for /metrics (`ctx.trackCounters`). */
  readonly badRecords?: BadRecordCounters;
  /** Results per action-log update. */
  readonly maxBatch: number;
}

/**
 * A sink that writes delivery results into the action log (one bulk update per batch), so
 * `writeTo` batches them and acks each result only once its update is committed.
 */
export function actionLogResultSink(
  actionLog: ActionLog,
  stats: ResultsStats,
): Sink<DeliveryResult> {
  return {
    name: "outreach-action-log",
    maxInFlight: 1,
    connect: () => Promise.resolve(),
    async write(batch: readonly OutgoingRecord<DeliveryResult>[]) {
      await actionLog.record(
        batch.map(({ value: r }) => ({
          idempotencyKey: r.idempotencyKey,
          state: r.status,
          messageId: r.messageId,
          reason: r.error,
          at: r.completedAt,
        })),
      );
      for (const { value } of batch)
        if (value.status === "DELIVERED") stats.delivered++;
        else stats.failed++;
    },
    flush: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
}

/**
 * The results job's stream: delivery results from the results topic → the action log
 * (DELIVERED / FAILED with the time), in batches; an undecodable result goes to the
 * dead-letter topic. Resolves when the source completes.
 *
 * @example
 * ```ts
 * await runResults(deps);
 * ```
 */
export function runResults(deps: ResultsDeps): Promise<number> {
  const codec = outreachCodecs().result;
  const writeDecodeFailure = (r: Record<Undecodable>): Promise<void> =>
    deps.deadLetters
      .write([
        deadLetter(
          {
            reasonCode: "DECODE",
            message: r.value.message,
            stage: "decode",
            job: deps.jobName,
            origin: r.origin,
            key: r.key ?? "",
            original: r.value.bytes,
          },
          deps.deadLetterTopic,
        ),
      ])
      .then(
        () => {
          deps.stats.deadLettered++;
          if (deps.badRecords !== undefined)
            countDeadLetters(deps.badRecords, [{ reasonCode: "DECODE" }]);
        },
        (error: unknown) => {
          throw new SluiceError("UNAVAILABLE", "dead letter write failed", {
            retryable: true,
            cause: error,
          });
        },
      );
  const decoded = deps.source.records().pipe(
    map((r): Record<Decoded> => {
      const d = codec.tryDecode(r.value);
      return derive<Buffer, Decoded>(
        r,
        d.ok
          ? { ok: true, value: d.value }
          : { ok: false, bytes: r.value, message: d.error.message },
      );
    }),
    route(
      branch(
        isDecoded,
        map((r) => derive(r, r.value.value)),
      ),
      // An undecodable result is done once its dead letter is written; a failed write
      // nacks it (redelivered).
      branch(
        (r): r is Record<Undecodable> => !r.value.ok,
        (bad) =>
          bad.pipe(
            ackAfter(writeDecodeFailure, {
              concurrency: 16,
              onError: (error) =>
                deps.logger.warn("dead letter write failed", { err: error }),
            }),
            ignoreElements(),
          ),
      ),
    ),
  );
  return lastValueFrom(
    decoded.pipe(
      writeTo(actionLogResultSink(deps.actionLog, deps.stats), {
        maxBatch: deps.maxBatch,
        maxWaitMs: 20,
      }),
      reduce((n, w) => n + (w.ok ? w.count : 0), 0),
    ),
    { defaultValue: 0 },
  );
}
