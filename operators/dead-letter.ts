import {
  defer,
  EMPTY,
  filter,
  ignoreElements,
  map,
  merge,
  Subject,
  tap,
  type Observable,
  type OperatorFunction,
} from "rxjs";
import type { Failed, Outcome } from "./outcome.js";
import { derive, type Origin, type Record } from "./record.js";
import {
  SluiceError,
  type SluiceErrorCode,
  type Stage,
} from "./sluice-error.js";

/**
 * What to do with a record whose step failed.
 *
 * @example
 * ```ts
 * deadLetter({ policy: BadRecordPolicy.DEAD_LETTER, sink: (dl$) => dl$.pipe(writeTo(dlqSink, { maxBatch: 100 })) });
 * ```
 */
export const BadRecordPolicy = Object.freeze({
  FAIL: "FAIL",
  DEAD_LETTER: "DEAD_LETTER",
  SKIP: "SKIP",
} as const);
/** `FAIL` ends the stream, `DEAD_LETTER` sends the record to the dead-letter sink, `SKIP` drops it (acked, counted). */
export type BadRecordPolicy =
  (typeof BadRecordPolicy)[keyof typeof BadRecordPolicy];

/** Why a record was dead-lettered: everything an operator needs to find and replay it. */
export interface DeadLetterReason {
  readonly code: SluiceErrorCode;
  readonly message: string;
  readonly retryable: boolean;
  readonly stage: Stage;
  readonly origin: Origin | undefined;
  readonly key: string | undefined;
  readonly attempts: number;
}

/** The value of a dead-letter record: the original value and the reason. */
export interface DeadLetter<T> {
  readonly value: T;
  readonly reason: DeadLetterReason;
}

/**
 * How many bad records went where; the runtime exports these as metrics.
 *
 * @example
 * ```ts
 * const op = deadLetter({ policy: "SKIP" });
 * op.counters.skipped; // records skipped on purpose, counted
 * ```
 */
export class BadRecordCounters {
  deadLettered = 0;
  skipped = 0;
  failed = 0;
  /** Bad records by error code, whatever their fate. */
  readonly byCode = new Map<SluiceErrorCode, number>();
}

/** Options of {@link deadLetter}. */
export interface DeadLetterOptions<T> {
  /** One policy for all, or a handler that sees the failure (error, stage, record and its origin) and picks one. */
  readonly policy: BadRecordPolicy | ((failure: Failed<T>) => BadRecordPolicy);
  /**
   * Writes dead letters and acks each one once it is stored (the dead-letter record holds
   * the original record's handle). Subscribed before the main input and for as long as it
   * runs; its error ends the stream, since a dead letter that cannot be stored must not
   * vanish. Required when the policy can be `DEAD_LETTER`.
   */
  readonly sink?: (
    deadLetters: Observable<Record<DeadLetter<T>>>,
  ) => Observable<unknown>;
  /** Counters to update; one is created when omitted. Read them from the returned operator too. */
  readonly counters?: BadRecordCounters;
}

/** The operator returned by {@link deadLetter}, carrying its counters. */
export type DeadLetterOperator<T, R> = OperatorFunction<
  Outcome<T, R>,
  Record<R>
> & { readonly counters: BadRecordCounters };

/**
 * Builds the reason of a failure.
 *
 * @example
 * ```ts
 * const reason = deadLetterReason(failed); // { code, message, stage, origin, key, attempts }
 * ```
 */
export function deadLetterReason<T>(failure: Failed<T>): DeadLetterReason {
  const { error, record, stage, attempts } = failure;
  return {
    code: error.code,
    message: error.message,
    retryable: error.retryable,
    stage,
    origin: record.origin,
    key: record.key,
    attempts,
  };
}

/**
 * Splits step outcomes: successes flow on as records, failures go where the bad-record
 * policy says: the dead-letter sink with their reason, a counted skip, or the end of the
 * stream. Never silently.
 *
 * @example
 * ```ts
 * const dlq = deadLetter<Order, Priced>({ policy: "DEAD_LETTER", sink: (dl$) => dlqTopic.write(dl$) });
 * records$.pipe(keyOrderedMap(price, { concurrency: 8 }), dlq, sink);
 * metrics.set("dead_lettered", dlq.counters.deadLettered);
 * ```
 */
export function deadLetter<T, R>(
  options: DeadLetterOptions<T>,
): DeadLetterOperator<T, R> {
  const { policy, sink } = options;
  const counters = options.counters ?? new BadRecordCounters();
  if (policy === "DEAD_LETTER" && sink === undefined)
    throw new SluiceError(
      "CONFIG",
      "deadLetter.sink is required when deadLetter.policy is DEAD_LETTER",
    );
  const choose = typeof policy === "function" ? policy : () => policy;

  const operator: OperatorFunction<Outcome<T, R>, Record<R>> = (source) =>
    defer(() => {
      const dead = new Subject<Record<DeadLetter<T>>>();
      const stored =
        sink === undefined
          ? EMPTY
          : sink(dead.asObservable()).pipe(ignoreElements());
      const handle = (failure: Failed<T>): undefined => {
        const chosen = choose(failure);
        counters.byCode.set(
          failure.error.code,
          (counters.byCode.get(failure.error.code) ?? 0) + 1,
        );
        switch (chosen) {
          case "SKIP":
            counters.skipped += 1;
            failure.record.ack.ack();
            return undefined;
          case "DEAD_LETTER":
            if (sink === undefined)
              throw new SluiceError(
                "CONFIG",
                "deadLetter.sink is required when the policy picks DEAD_LETTER",
              );
            counters.deadLettered += 1;
            dead.next(
              derive(failure.record, {
                value: failure.record.value,
                reason: deadLetterReason(failure),
              }),
            );
            return undefined;
          case "FAIL":
            counters.failed += 1;
            failure.record.ack.nack(failure.error);
            throw failure.error;
        }
      };
      const main = source.pipe(
        map((o) => (o.kind === "ok" ? o.record : handle(o))),
        filter((r): r is Record<R> => r !== undefined),
        tap({ complete: () => dead.complete() }),
      );
      return merge(stored, main);
    });
  return Object.assign(operator, { counters });
}
