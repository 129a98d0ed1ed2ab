import { filter, lastValueFrom, map, Observable, tap } from "rxjs";
import type { OperatorFunction } from "rxjs";
import { CommitTracker } from "../../operators/commit-tracker.js";
import type { Element, Late } from "../../operators/element.js";
import { isLate, isRecord, isWatermark } from "../../operators/element.js";
import type { Headers, Record } from "../../operators/record.js";
import { derive } from "../../operators/record.js";
import type { GeneratorOptions, NexmarkEvent } from "./generator.js";
import { NexmarkGenerator } from "./generator.js";

/** A Nexmark query written with Sluice operators: events in, result records (and watermarks) out. */
export type NexmarkQuery<R> = OperatorFunction<
  Record<NexmarkEvent>,
  Element<R> | Late<unknown>
>;

/** Records per source batch (one ack handle each), as a Kafka fetch would deliver. */
export const BATCH = 500;
const TOPIC = "nexmark";
const EMPTY: Headers = Object.freeze({});

/**
 * Keeps the records `pick` maps to a value, re-keyed by `keyOf`, and acks the others (dropped
 * on purpose); watermarks pass through.
 */
export function select<T, R>(
  pick: (value: T) => R | undefined,
  keyOf?: (value: R, input: T) => string,
): OperatorFunction<Element<T>, Element<R>> {
  return (source) =>
    source.pipe(
      map((e): Element<R> | null => {
        if (isWatermark(e)) return e;
        const v = pick(e.value);
        if (v === undefined) {
          e.ack.ack();
          return null;
        }
        if (keyOf !== undefined)
          return derive(e, v, { key: keyOf(v, e.value) });
        // same value, same key: pass the record itself on, no allocation
        return (v as unknown) === e.value
          ? (e as unknown as Record<R>)
          : derive(e, v);
      }),
      filter((e): e is Element<R> => e !== null),
    );
}

/** Fails the stream on a late element (none is expected: Nexmark events come in order). */
export function noLate<E>(): OperatorFunction<E | Late<unknown>, E> {
  return map((e) => {
    if (isLate(e)) throw new Error("nexmark: unexpected late element");
    return e;
  });
}

/** What a Sluice run of a query produced. */
export interface QueryRun<R> {
  readonly outputs: number;
  readonly rows: R[];
}

/**
 * Runs `query` over `events` generated events: a source emitting records with batch ack
 * handles from a commit tracker, the query, and a sink acking and counting each result (and
 * keeping it when `collect`). Fails if a late element came out or the commit point did not
 * reach the last event (an input never acknowledged).
 */
export function runQuery<R>(
  query: NexmarkQuery<R>,
  events: number,
  options: GeneratorOptions,
  collect = false,
): Promise<QueryRun<R>> {
  const tracker = new CommitTracker(TOPIC, 0);
  const source$ = new Observable<Record<NexmarkEvent>>((subscriber) => {
    const gen = new NexmarkGenerator(options);
    for (let first = 0; first < events && !subscriber.closed; first += BATCH) {
      const end = Math.min(first + BATCH, events);
      const ack = tracker.trackBatch(first, end - 1, end - first);
      for (let offset = first; offset < end; offset++) {
        const e = gen.next();
        subscriber.next({
          key: undefined,
          value: e,
          timestamp: e.dateTime,
          headers: EMPTY,
          origin: { topic: TOPIC, partition: 0, offset },
          ack,
        });
      }
    }
    subscriber.complete();
  });
  let outputs = 0;
  const rows: R[] = [];
  return lastValueFrom(
    source$.pipe(
      query,
      tap((e) => {
        if (isRecord(e)) {
          outputs += 1;
          if (collect) rows.push(e.value);
          e.ack.ack();
        } else if (!isWatermark(e)) throw new Error("late element in Nexmark");
      }),
    ),
    { defaultValue: undefined },
  ).then(() => {
    if (tracker.committable !== events)
      throw new Error(
        `nexmark: commit point ${tracker.committable}, expected ${events}: an input was never acknowledged`,
      );
    return { outputs, rows };
  });
}
