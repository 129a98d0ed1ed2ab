import { join } from "node:path";
import { markdown, runSuite, writeResults, type Suite } from "./harness.js";
import { defaultOperatorBench, operatorSuite } from "./operators.js";

/** Benchmark suites `sluice bench <suite>` knows. */
export const SUITES: {
  readonly [name: string]: {
    readonly describe: string;
    readonly make: (scale: number) => Suite;
  };
} = {
  operators: {
    describe:
      "bare loop and RxJS baselines against Sluice's keyed tumbling-window count with full ack tracking (in memory, one core)",
    make: (scale) =>
      operatorSuite({
        ...defaultOperatorBench,
        records: Math.round(defaultOperatorBench.records * scale),
      }),
  },
};

export interface BenchOptions {
  readonly runs: number;
  readonly warmup: number;
  readonly scale: number;
  readonly out: string;
}

/** Runs one suite, prints its Markdown table and the ratios, writes JSON, Markdown and SVG. */
export async function runBench(
  suiteName: string,
  options: BenchOptions,
  onProgress?: (done: number, total: number, label: string) => void,
): Promise<void> {
  const entry = SUITES[suiteName];
  if (entry === undefined)
    throw new Error(
      `unknown benchmark suite "${suiteName}"; known: ${Object.keys(SUITES).join(", ")}`,
    );
  const result = await runSuite(entry.make(options.scale), {
    runs: options.runs,
    warmup: options.warmup,
    ...(onProgress ? { onProgress } : {}),
  });
  const paths = writeResults(result, options.out);
  console.log("\n" + markdown(result));
  console.log(
    `results: ${paths.json}\n         ${paths.md}\n         ${paths.svg}`,
  );
}

export const DEFAULT_RESULTS_DIR = join(process.cwd(), "bench", "results");
