import type { Goal, Suite, Workload } from "../harness.js";
import type { NexmarkQuery } from "./common.js";
import { runQuery } from "./common.js";
import type { GeneratorOptions } from "./generator.js";
import { defaultGeneratorOptions } from "./generator.js";
import type { Loop } from "./loops.js";
import * as loops from "./loops.js";
import { q3, q4, q9 } from "./joins.js";
import { q0, q1, q2 } from "./stateless.js";
import { q11, q5, q7, q8 } from "./windows.js";

export interface NexmarkBenchOptions {
  /** Events generated per run. */
  readonly events: number;
  readonly generator: GeneratorOptions;
}

export const defaultNexmarkBench: NexmarkBenchOptions = {
  events: 1_000_000,
  generator: defaultGeneratorOptions,
};

/** One query of the suite: its Sluice version and its hand-written loop. */
export interface QuerySpec {
  readonly name: string;
  readonly what: string;
  readonly sluice: () => NexmarkQuery<unknown>;
  readonly loop: Loop<unknown>;
  /** False where the Sluice query emits a changelog and the loop only final rows (q4). */
  readonly sameCount?: boolean;
}

export const QUERIES: readonly QuerySpec[] = [
  { name: "q0", what: "pass-through", sluice: q0, loop: loops.loopQ0 },
  { name: "q1", what: "currency conversion", sluice: q1, loop: loops.loopQ1 },
  { name: "q2", what: "selection", sluice: q2, loop: loops.loopQ2 },
  {
    name: "q3",
    what: "local item suggestion (keyed join)",
    sluice: q3,
    loop: loops.loopQ3,
  },
  {
    name: "q4",
    what: "average price per category",
    sluice: q4,
    loop: loops.loopQ4,
    sameCount: false,
  },
  {
    name: "q5",
    what: "hot items (HOP 10 s / 2 s)",
    sluice: q5,
    loop: loops.loopQ5,
  },
  {
    name: "q7",
    what: "highest bid (TUMBLE 10 s)",
    sluice: q7,
    loop: loops.loopQ7,
  },
  {
    name: "q8",
    what: "monitor new users (windowed join)",
    sluice: q8,
    loop: loops.loopQ8,
  },
  { name: "q9", what: "winning bids", sluice: q9, loop: loops.loopQ9 },
  {
    name: "q11",
    what: "user sessions (SESSION 10 s)",
    sluice: q11,
    loop: loops.loopQ11,
  },
] as readonly QuerySpec[];

/**
 * One suite per Nexmark query, in memory on one core, generator included in both workloads:
 * `<q> loop`, the hand-written single loop (the same-run baseline), and `<q> sluice`, the
 * query written with Sluice operators over records carrying batch ack handles, every result
 * acked. A Sluice run fails if its output count differs from the loop's or an event was
 * never acknowledged. Goals (printed, not asserted): ≥ 1 M events/s and within 2× of the loop.
 */
export function nexmarkSuites(
  o: NexmarkBenchOptions = defaultNexmarkBench,
): Suite[] {
  return QUERIES.map((q): Suite => {
    let expected: number | undefined;
    const loop: Workload = {
      name: `${q.name} loop`,
      records: o.events,
      note: `hand-written loop: ${q.what}`,
      run() {
        let n = 0;
        q.loop(o.events, o.generator, () => {
          n += 1;
        });
        expected = n;
      },
    };
    const sluice: Workload = {
      name: `${q.name} sluice`,
      records: o.events,
      note: `Sluice operators: ${q.what}`,
      run: async () => {
        const run = await runQuery(q.sluice(), o.events, o.generator);
        if (
          q.sameCount !== false &&
          expected !== undefined &&
          run.outputs !== expected
        )
          throw new Error(
            `nexmark ${q.name}: ${run.outputs} outputs, the loop gave ${expected}`,
          );
      },
    };
    const goals: Goal[] = [
      { workload: sluice.name, minRecordsPerSec: 1_000_000, minRatio: 0.5 },
    ];
    return {
      name: `nexmark-${q.name}`,
      baseline: loop.name,
      workloads: [loop, sluice],
      goals,
    };
  });
}
