import { filter, from, lastValueFrom, map, Observable, tap } from "rxjs";
import { counter } from "../operators/aggregate.js";
import { CommitTracker } from "../operators/commit-tracker.js";
import { isRecord } from "../operators/element.js";
import type { Headers, Record } from "../operators/record.js";
import { tumblingWindow } from "../operators/tumbling-window.js";
import { withWatermarks } from "../operators/with-watermarks.js";
import type { Suite, Workload } from "./harness.js";

/** One input event of the operator benchmark. */
interface Event {
  readonly key: string;
  readonly timestamp: number;
  readonly amount: number;
}

export interface OperatorBenchOptions {
  readonly records: number;
  readonly keys: number;
  readonly partitions: number;
  /** Records per fetched batch (one ack handle each), as a Kafka fetch would deliver. */
  readonly batch: number;
  readonly windowMs: number;
}

export const defaultOperatorBench: OperatorBenchOptions = {
  records: 2_000_000,
  keys: 1_000,
  partitions: 4,
  batch: 500,
  windowMs: 10_000,
};

const EMPTY: Headers = Object.freeze({});

/** Events at 1 ms apart in event time, up to 200 ms out of order, keys round-robin-ish. */
function makeEvents(o: OperatorBenchOptions): Event[] {
  const keys = Array.from({ length: o.keys }, (_, i) => `key-${i}`);
  const events: Event[] = new Array<Event>(o.records);
  let seed = 12345;
  for (let i = 0; i < o.records; i++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    events[i] = {
      key: keys[seed % o.keys]!,
      timestamp: i - (seed % 200),
      amount: seed % 100,
    };
  }
  return events;
}

/**
 * The operator benchmark of the operators issue, one core, in one process:
 * - `plain loop`: a `for` loop doing map + filter + count over the events;
 * - `rxjs map+filter`: `from(events).pipe(map, filter)`, the bare RxJS baseline;
 * - `sluice window count`: records with ack handles from per-partition commit trackers (one
 *   handle per fetched batch), watermarks, a keyed tumbling-window count, and every result
 *   acked, checked at the end to have committed every offset.
 */
export function operatorSuite(
  o: OperatorBenchOptions = defaultOperatorBench,
): Suite {
  const events = makeEvents(o);

  const plainLoop: Workload = {
    name: "plain loop",
    records: o.records,
    note: "for loop: map + filter + count",
    run() {
      let n = 0;
      for (let i = 0; i < events.length; i++) {
        const e = events[i]!;
        const v = { key: e.key, cents: e.amount * 100 };
        if (v.cents >= 100) n++;
      }
      if (n < 0) throw new Error("unreachable");
    },
  };

  const rxjsMapFilter: Workload = {
    name: "rxjs map+filter",
    records: o.records,
    note: "from(events).pipe(map, filter)",
    run: async () => {
      await lastValueFrom(
        from(events).pipe(
          map((e) => ({ key: e.key, cents: e.amount * 100 })),
          filter((v) => v.cents >= 100),
        ),
        { defaultValue: undefined },
      );
    },
  };

  const sluiceWindowCount: Workload = {
    name: "sluice window count",
    records: o.records,
    note: `records + batch ack handles → withWatermarks → keyed tumblingWindow(${o.windowMs / 1000} s, count) → results acked; commit point checked`,
    run: () =>
      new Promise<void>((resolve, reject) => {
        const trackers = Array.from(
          { length: o.partitions },
          (_, p) => new CommitTracker("bench", p),
        );
        const nextOffset = new Array<number>(o.partitions).fill(0);
        const source$ = new Observable<Record<Event>>((subscriber) => {
          for (
            let start = 0, b = 0;
            start < events.length && !subscriber.closed;
            start += o.batch, b++
          ) {
            const end = Math.min(start + o.batch, events.length);
            const partition = b % o.partitions;
            const first = nextOffset[partition]!;
            const ack = trackers[partition]!.trackBatch(
              first,
              first + (end - start) - 1,
              end - start,
            );
            for (let i = start; i < end; i++) {
              const e = events[i]!;
              subscriber.next({
                key: e.key,
                value: e,
                timestamp: e.timestamp,
                headers: EMPTY,
                origin: {
                  topic: "bench",
                  partition,
                  offset: first + (i - start),
                },
                ack,
              });
            }
            nextOffset[partition] = first + (end - start);
          }
          subscriber.complete();
        });
        let counted = 0;
        lastValueFrom(
          source$.pipe(
            withWatermarks<Event>({ maxOutOfOrdernessMs: 200 }),
            tumblingWindow({ sizeMs: o.windowMs, aggregate: counter<Event>() }),
            tap((e) => {
              if (isRecord(e)) {
                counted += e.value.result;
                e.ack.ack();
              }
            }),
          ),
          { defaultValue: undefined },
        ).then(() => {
          const allCommitted = trackers.every(
            (t, p) => t.committable === nextOffset[p],
          );
          if (counted !== events.length || !allCommitted) {
            reject(
              new Error(
                `window count lost records: counted ${counted} of ${events.length}, all committed: ${allCommitted}`,
              ),
            );
          } else resolve();
        }, reject);
      }),
  };

  return {
    name: "operators",
    baseline: "rxjs map+filter",
    workloads: [plainLoop, rxjsMapFilter, sluiceWindowCount],
    goals: [
      {
        workload: "sluice window count",
        minRecordsPerSec: 3_000_000,
        minRatio: 1 / 3,
      },
    ],
  };
}
