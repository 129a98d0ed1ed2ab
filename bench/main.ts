import { join } from "node:path";
import { endpoints, requireServices } from "../stack/index.js";
import type { Endpoints, ServiceName } from "../stack/index.js";
import { connectorSuites, defaultConnectorBench } from "./connectors.js";
import {
  markdown,
  runSuite,
  summaryMarkdown,
  writeResults,
  writeSummary,
  type Suite,
  type SuiteResult,
} from "./harness.js";
import {
  defaultNexmarkKafkaBench,
  nexmarkKafkaSuite,
} from "./nexmark/kafka.js";
import { defaultNexmarkBench, nexmarkSuites } from "./nexmark/suite.js";
import { defaultOperatorBench, operatorSuite } from "./operators.js";
import { defaultPeersBench, peersSuite } from "./peers/suite.js";
import { pipelineSuites } from "./pipelines.js";
import { outreachSuite } from "./outreach.js";
import { reviewsSuite } from "./reviews.js";
import {
  defaultOverloadBench,
  defaultScalingBench,
  overloadSuite,
  scalingSuite,
} from "./scaling/suite.js";
import { eshopSuite } from "./eshop.js";

/** Benchmark suites `sluice bench <suite>` knows. */
export const SUITES: {
  readonly [name: string]: {
    readonly describe: string;
    /** Services the suite talks to; checked first, so a missing one fails with what to set. */
    readonly requires?: readonly ServiceName[];
    /**
     * One suite, or several run one after the other (each with its own baseline); `out` is
     * the `--out` directory, for suites that write more than their result table.
     */
    readonly make: (
      scale: number,
      env: Endpoints,
      out?: string,
    ) => Suite | readonly Suite[];
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
  nexmark: {
    describe:
      "Nexmark q0-q5, q7-q9, q11 in memory on one core, generator included: each query with Sluice operators beside a hand-written single loop",
    make: (scale) =>
      nexmarkSuites({
        ...defaultNexmarkBench,
        events: Math.max(
          10_000,
          Math.round(defaultNexmarkBench.events * scale),
        ),
      }),
  },
  reviews: {
    describe:
      "the movie-review system end to end on the embedded log (reviews/s and write→recommendation latency) beside one job hop on the same log",
    make: (scale) => reviewsSuite(Math.max(200, Math.round(5_000 * scale))),
  },
  outreach: {
    describe:
      "outreach fan-out (issue 6): 1,000,000 job ids × scale to the simulators, on the embedded default and through Kafka with the action log on PostgreSQL, beside the simulators' own ceiling; main-thread heap/RSS curves (needs `sluice stack up`)",
    requires: ["kafka", "postgres"],
    make: (scale, env, out) =>
      outreachSuite(Math.max(1_000, Math.round(1_000_000 * scale)), env, out),
  },
  connectors: {
    describe:
      "Kafka produce and consume (kafkajs, confluent, memory log) against bare client loops, PostgreSQL and Cassandra sinks against COPY and plain driver loops (needs `sluice stack up`)",
    requires: ["kafka", "postgres", "cassandra"],
    make: (scale, env) =>
      connectorSuites(env, {
        ...defaultConnectorBench,
        records: Math.max(
          1_000,
          Math.round(defaultConnectorBench.records * scale),
        ),
        rows: Math.max(500, Math.round(defaultConnectorBench.rows * scale)),
      }),
  },
  "nexmark-kafka": {
    describe:
      "Nexmark q0-q5, q7-q9, q11 from a Kafka topic (Avro, written once per run) with Sluice's Kafka source, beside bare kafkajs and librdkafka consume loops of the same topic",
    requires: ["kafka"],
    make: (scale, env) =>
      nexmarkKafkaSuite({
        brokers: env.kafkaBrokers,
        events: Math.max(
          10_000,
          Math.round(defaultNexmarkKafkaBench.events * scale),
        ),
        generator: defaultNexmarkKafkaBench.generator,
      }),
  },
  peers: {
    describe:
      "Kafka Streams 4.1.1 (Java, built with Maven on first use) and Sluice running the same windowed count and Nexmark q5/q7 from the same topic on the same broker; Sluice/peer ratios",
    requires: ["kafka"],
    make: (scale, env) =>
      peersSuite({
        brokers: env.kafkaBrokers,
        events: Math.max(10_000, Math.round(defaultPeersBench.events * scale)),
        generator: defaultPeersBench.generator,
      }),
  },
  pipelines: {
    describe:
      "the pipelines end to end: the reviews chain (embedded and on the real stack, beside one job hop on the in-memory log), the outreach fan-out of 1 M job ids × scale, and the e-shop saga (embedded and on Kafka + PostgreSQL)",
    requires: ["kafka", "cassandra", "postgres", "memcached"],
    make: (scale, env, out) => pipelineSuites(scale, env, out),
  },
  scaling: {
    describe:
      "the windowed count from Kafka with 1, 2 and 4 partitions read by as many worker processes in one consumer group; then (part `overload`) input rates stepped from below to 4× what one worker with a heavier per-input job processes (lag, RSS and heap sampled; timeline written to --out)",
    requires: ["kafka"],
    make: (scale, env, out) => [
      scalingSuite({
        ...defaultScalingBench,
        brokers: env.kafkaBrokers,
        events: Math.max(
          10_000,
          Math.round(defaultScalingBench.events * scale),
        ),
      }),
      overloadSuite({
        ...defaultOverloadBench,
        brokers: env.kafkaBrokers,
        stepSeconds: Math.max(
          2,
          Math.round(defaultOverloadBench.stepSeconds * Math.min(1, scale * 4)),
        ),
        out: out ?? DEFAULT_RESULTS_DIR,
      }),
    ],
  },
  eshop: {
    describe:
      "the e-shop saga (checkout → paid through Ordering, Catalog, Payment) on the embedded log and on Kafka + PostgreSQL, orders/s and p99 checkout→paid, beside bare kafkajs produce/consume",
    requires: ["kafka", "postgres"],
    make: (scale, env) =>
      eshopSuite(
        env,
        Math.max(50, Math.round(1_000 * scale)),
        Math.max(2_000, Math.round(20_000 * scale)),
      ),
  },
};

export interface BenchOptions {
  readonly runs: number;
  readonly warmup: number;
  readonly scale: number;
  readonly out: string;
  /** Names (or name suffixes after a dash: `q5` for `nexmark-q5`) of the parts to run. */
  readonly only?: readonly string[];
}

/** The parts of a suite `--only` keeps; an unknown name is an error naming the known ones. */
export function selectSuites(
  suiteName: string,
  suites: readonly Suite[],
  only: readonly string[] | undefined,
): readonly Suite[] {
  if (only === undefined || only.length === 0) return suites;
  const matches = (suite: Suite, name: string): boolean =>
    suite.name === name || suite.name.endsWith(`-${name}`);
  const unknown = only.filter((name) => !suites.some((s) => matches(s, name)));
  if (unknown.length > 0)
    throw new Error(
      `--only ${unknown.join(",")}: no such part of "${suiteName}"; its parts: ${suites.map((s) => s.name).join(", ")}`,
    );
  return suites.filter((s) => only.some((name) => matches(s, name)));
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
  const env =
    entry.requires !== undefined
      ? await requireServices(entry.requires)
      : endpoints();
  const made = entry.make(options.scale, env, options.out);
  const suites = selectSuites(
    suiteName,
    Array.isArray(made) ? made : [made as Suite],
    options.only,
  );
  const results: SuiteResult[] = [];
  for (const suite of suites) {
    const result = await runSuite(suite, {
      runs: options.runs,
      warmup: options.warmup,
      ...(onProgress ? { onProgress } : {}),
    });
    results.push(result);
    const paths = writeResults(result, options.out);
    console.log("\n" + markdown(result));
    console.log(
      `results: ${paths.json}\n         ${paths.md}\n         ${paths.svg}`,
    );
  }
  if (results.length > 1) {
    // The parts side by side (one chart per part does not show them together).
    const paths = writeSummary(suiteName, results, options.out);
    console.log("\n" + summaryMarkdown(suiteName, results));
    console.log(`summary: ${paths.md}\n         ${paths.svg}`);
  }
}

export const DEFAULT_RESULTS_DIR = join(process.cwd(), "bench", "results");
