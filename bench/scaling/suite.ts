import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import confluent from "@confluentinc/kafka-javascript";
import { kafkaAdmin } from "../../connectors/kafka/index.js";
import type { Suite, Workload } from "../harness.js";
import { nexmarkCodec, nexmarkKey } from "../nexmark/avro.js";
import { dropKafka, fillNexmarkTopic, unique } from "../nexmark/kafka.js";
import type { GeneratorOptions } from "../nexmark/generator.js";
import {
  defaultGeneratorOptions,
  NexmarkGenerator,
} from "../nexmark/generator.js";
import { WorkerGroup } from "./processes.js";

export interface ScalingOptions {
  readonly brokers: readonly string[];
  /** Events per topic; every run reads all of them. */
  readonly events: number;
  /** Partitions = worker processes, one workload each; the first is the baseline. */
  readonly widths: readonly number[];
  readonly generator: GeneratorOptions;
}

export const defaultScalingBench = {
  events: 400_000,
  widths: [1, 2, 4],
  generator: defaultGeneratorOptions,
} as const;

/**
 * `scaling`: the windowed count of `sluice bench peers` from a Kafka topic with 1, 2 and 4
 * partitions, read by as many worker processes in one consumer group (`worker.ts`). The
 * workers join paused; the clock starts when one stable assignment covers every partition
 * and stops at the last input any worker processed. Baseline: one partition, one worker.
 */
export function scalingSuite(o: ScalingOptions): Suite {
  const topics = new Map(
    o.widths.map((w) => [w, `bench-scaling-${w}p-${unique()}`]),
  );
  const groups: string[] = [];
  const stats = new Map<number, { cpu: number; rss: number[] }>();
  const workloads = o.widths.map((w): Workload => ({
    name: `${w} partition${w === 1 ? "" : "s"}, ${w} worker${w === 1 ? "" : "s"}`,
    records: o.events,
    get note() {
      const s = stats.get(w);
      return `consumer group of ${w} child process${w === 1 ? "" : "es"}, kafkaSource (kafkajs) → bids per auction, TUMBLE 10 s${s === undefined ? "" : `; workers' CPU ${s.cpu.toFixed(2)} s, peak RSS ${s.rss.join("/")} MB in the last run`}`;
    },
    run: async () => {
      const group = `bench-scaling-${w}-${unique()}`;
      groups.push(group);
      const workers = new WorkerGroup(w, {
        brokers: o.brokers,
        topic: topics.get(w)!,
        group,
        maxInFlight: o.events + 1,
      });
      let seconds: number;
      try {
        await workers.waitStable(w);
        const t0 = workers.go();
        await workers.waitProcessed(o.events);
        seconds = (workers.lastAt - t0) / 1000;
      } finally {
        await workers.stop();
      }
      stats.set(w, { cpu: workers.cpuSeconds, rss: workers.peakRssMb });
      // CPU: the workers' (join, fetch, decode, window), not this idle parent's
      return { seconds, cpuSeconds: workers.cpuSeconds };
    },
  }));
  return {
    name: "scaling",
    baseline: workloads[0]!.name,
    workloads,
    setup: async () => {
      for (const [w, topic] of topics) {
        const filled = await fillNexmarkTopic(o.brokers, topic, o.events, {
          partitions: w,
          generator: o.generator,
        });
        console.log(
          `scaling: ${filled.events} events on ${w} partition(s) written in ${filled.seconds.toFixed(1)} s`,
        );
      }
    },
    teardown: () => dropKafka(o.brokers, [...topics.values()], groups),
  };
}

export interface OverloadOptions {
  readonly brokers: readonly string[];
  /** Input rates (events/s), each held for `stepSeconds`. */
  readonly rates: readonly number[];
  readonly stepSeconds: number;
  /** The worker's `maxInFlight`: the memory bound (must hold a window's inputs). */
  readonly maxInFlight: number;
  /** Where the per-sample timeline goes (`scaling-overload-timeline.{json,md,svg}`). */
  readonly out: string;
}

export const defaultOverloadBench = {
  rates: [20_000, 40_000, 80_000, 160_000, 320_000],
  stepSeconds: 8,
  maxInFlight: 150_000,
} as const;

/** One sample of the overload run. */
export interface OverloadSample {
  readonly t: number;
  readonly targetRate: number;
  readonly produced: number;
  readonly processed: number;
  readonly lag: number;
  readonly rssMb: number;
}

/** Encoded events the staircase cycles through (generated and encoded once, before the clock). */
const POOL = 50_000;

/**
 * Event time advances 10 k events per second whatever the input rate, so a 10 s window holds
 * 100 k inputs and the worker's `maxInFlight` (150 k) bounds memory while windows still fire.
 */
const OVERLOAD_EVENTS_PER_SEC = 10_000;

/** The Kafka timestamp (event time) of the n-th event of the staircase. */
const eventTime = (n: number): number =>
  defaultGeneratorOptions.baseTimeMs +
  Math.floor((n * 1000) / OVERLOAD_EVENTS_PER_SEC);

let pooled: { key: string; value: Buffer }[] | undefined;

/**
 * The producer sends pre-encoded events so it stays cheaper per event than the worker and
 * can outrun it: generating and encoding in the loop capped it at the worker's own rate. The
 * windowed count reads event time from the Kafka timestamp and only the type and auction
 * from the value, so cycling through one pool of values changes nothing it computes.
 */
function eventPool(): { key: string; value: Buffer }[] {
  if (pooled !== undefined) return pooled;
  const codec = nexmarkCodec();
  const gen = new NexmarkGenerator({ ...defaultGeneratorOptions, seed: 13 });
  pooled = Array.from({ length: POOL }, () => {
    const e = gen.next();
    return { key: nexmarkKey(e), value: codec.encode(e) };
  });
  return pooled;
}

/**
 * `scaling-overload`: one worker process runs the windowed count while this process produces
 * Nexmark events to its one-partition topic at stepped rates (`rates`, `stepSeconds` each),
 * sampling every 500 ms what was produced, what the worker processed (lag = the difference)
 * and the worker's RSS. Once the input outruns the worker, lag grows step after step while
 * RSS stays bounded by `maxInFlight`. records/s is what the worker processed over the whole
 * staircase; the per-step table and the timeline chart are written beside the results.
 */
export function overloadSuite(o: OverloadOptions): Suite {
  const topics: string[] = [];
  const groups: string[] = [];
  let summary = "";
  const total = o.rates.reduce((n, r) => n + r * o.stepSeconds, 0);
  let processedLast = 0;
  const staircase: Workload = {
    name: "stepped input rate",
    // what the worker processed in the last run (records/s = its mean rate over the staircase)
    get records() {
      return processedLast > 0 ? processedLast : total;
    },
    get note() {
      return `1 worker (maxInFlight ${o.maxInFlight}), input ${o.rates.map((r) => `${r / 1000}k`).join("→")} events/s, ${o.stepSeconds} s each${summary}`;
    },
    run: async () => {
      const topic = `bench-overload-${unique()}`;
      const group = `bench-overload-${unique()}`;
      topics.push(topic);
      groups.push(group);
      const admin = kafkaAdmin({ brokers: o.brokers });
      try {
        await admin.createTopics([
          { topic, partitions: 1, config: { "retention.ms": "-1" } },
        ]);
      } finally {
        await admin.close();
      }
      const workers = new WorkerGroup(1, {
        brokers: o.brokers,
        topic,
        group,
        maxInFlight: o.maxInFlight,
      });
      // librdkafka keeps the order of sends on a partition (idempotent producer), so several
      // sends can be in flight without reordering event time; kafkajs, one send at a time,
      // could not produce more than ~10 k events/s here.
      const producer = new confluent.KafkaJS.Kafka({
        kafkaJS: {
          brokers: [...o.brokers],
          clientId: "bench-overload",
          logLevel: confluent.KafkaJS.logLevel.ERROR,
        },
      }).producer({
        kafkaJS: { idempotent: true, acks: -1 },
        "linger.ms": 5,
      });
      const pending = new Set<Promise<unknown>>();
      const samples: OverloadSample[] = [];
      try {
        const pool = eventPool();
        await workers.waitStable(1);
        await producer.connect();
        const t0 = workers.go();
        let produced = 0;
        let nextSample = 0;
        const now = (): number =>
          (performance.timeOrigin + performance.now() - t0) / 1000;
        for (const rate of o.rates) {
          const start = now();
          let inStep = 0;
          while (now() - start < o.stepSeconds) {
            // events owed at this rate since the step began, sent in batches of ≤ 20 000
            const owed = Math.floor((now() - start) * rate) - inStep;
            if (owed > 0) {
              const messages: {
                key: string;
                value: Buffer;
                timestamp: string;
              }[] = [];
              for (let i = 0; i < Math.min(owed, 20_000); i++) {
                const e = pool[(produced + i) % pool.length]!;
                messages.push({
                  key: e.key,
                  value: e.value,
                  timestamp: String(eventTime(produced + i)),
                });
              }
              const sent = producer.send({ topic, messages });
              pending.add(sent);
              void sent.finally(() => pending.delete(sent));
              if (pending.size >= 32) await Promise.race(pending);
              produced += messages.length;
              inStep += messages.length;
            } else await new Promise((r) => setTimeout(r, 20));
            if (now() >= nextSample) {
              samples.push({
                t: now(),
                targetRate: rate,
                produced,
                processed: workers.processed,
                lag: produced - workers.processed,
                rssMb: workers.rssMb[0] ?? 0,
              });
              nextSample += 0.5;
            }
          }
        }
        await Promise.all(pending);
        const seconds = now();
        processedLast = workers.processed;
        summary = `; ${describeSteps(samples, o.rates)}`;
        writeTimeline(o.out, samples, o.rates, o.maxInFlight);
        return { seconds };
      } finally {
        await producer.disconnect().catch(() => undefined);
        await workers.stop();
      }
    },
  };
  return {
    name: "scaling-overload",
    baseline: staircase.name,
    workloads: [staircase],
    teardown: () => dropKafka(o.brokers, topics, groups),
  };
}

/** Per step: the rate asked, what was produced and processed per second, lag and RSS at its end. */
export function stepTable(
  samples: readonly OverloadSample[],
  rates: readonly number[],
): {
  rate: number;
  produced: number;
  processed: number;
  lagEnd: number;
  rssMaxMb: number;
}[] {
  return rates.flatMap((rate) => {
    const s = samples.filter((x) => x.targetRate === rate);
    if (s.length < 2) return [];
    const first = s[0]!;
    const last = s[s.length - 1]!;
    const dt = last.t - first.t;
    return [
      {
        rate,
        produced: Math.round((last.produced - first.produced) / dt),
        processed: Math.round((last.processed - first.processed) / dt),
        lagEnd: last.lag,
        rssMaxMb: Math.max(...s.map((x) => x.rssMb)),
      },
    ];
  });
}

function describeSteps(
  samples: readonly OverloadSample[],
  rates: readonly number[],
): string {
  return stepTable(samples, rates)
    .map(
      (r) =>
        `${r.rate / 1000}k: in ${(r.produced / 1000).toFixed(1)}k/s, out ${(r.processed / 1000).toFixed(1)}k/s, lag ${r.lagEnd}, RSS ≤ ${r.rssMaxMb} MB`,
    )
    .join("; ");
}

/** Writes the samples as JSON, the per-step table as Markdown and lag + RSS over time as SVG. */
function writeTimeline(
  dir: string,
  samples: readonly OverloadSample[],
  rates: readonly number[],
  maxInFlight: number,
): void {
  mkdirSync(dir, { recursive: true });
  const base = join(dir, "scaling-overload-timeline");
  writeFileSync(
    `${base}.json`,
    JSON.stringify({ maxInFlight, rates, samples }, null, 2) + "\n",
  );
  const rows = stepTable(samples, rates);
  writeFileSync(
    `${base}.md`,
    [
      "| input asked (events/s) | produced/s | processed/s | lag at step end | worker peak RSS MB |",
      "|---:|---:|---:|---:|---:|",
      ...rows.map(
        (r) =>
          `| ${r.rate} | ${r.produced} | ${r.processed} | ${r.lagEnd} | ${r.rssMaxMb} |`,
      ),
    ].join("\n") + "\n",
  );
  const W = 640;
  const H = 260;
  const pad = 50;
  const tMax = Math.max(...samples.map((s) => s.t), 1);
  const lagMax = Math.max(...samples.map((s) => s.lag), 1);
  const rssMax = Math.max(...samples.map((s) => s.rssMb), 1) * 1.2;
  const x = (t: number): number => pad + (t / tMax) * (W - 2 * pad);
  const line = (v: (s: OverloadSample) => number, max: number): string =>
    samples
      .map(
        (s, i) =>
          `${i === 0 ? "M" : "L"}${x(s.t).toFixed(1)},${(H - pad - (v(s) / max) * (H - 2 * pad)).toFixed(1)}`,
      )
      .join(" ");
  writeFileSync(
    `${base}.svg`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">
<text x="10" y="18" font-size="14" font-weight="bold">scaling-overload: lag (blue, max ${lagMax}) and worker RSS (red, max ${Math.round(rssMax / 1.2)} MB) over ${tMax.toFixed(0)} s</text>
<line x1="${pad}" y1="${H - pad}" x2="${W - pad}" y2="${H - pad}" stroke="#999"/>
${rates.map((r, i) => `<text x="${x((i + 0.5) * (tMax / rates.length)).toFixed(0)}" y="${H - pad + 16}" text-anchor="middle">${r / 1000}k/s</text>`).join("\n")}
<path d="${line((s) => s.lag, lagMax)}" fill="none" stroke="#2a6fb0" stroke-width="2"/>
<path d="${line((s) => s.rssMb, rssMax)}" fill="none" stroke="#c0392b" stroke-width="2"/>
</svg>
`,
  );
}
