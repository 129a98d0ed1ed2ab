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
  /**
   * The worker runs a full GC this often and reports the heap left after it, which is what
   * "memory stays flat" is about (`heapUsed` also carries garbage until V8 collects).
   */
  readonly gcEveryMs: number;
  /** One staircase (workload) per job, each with a fresh worker and topic. */
  readonly jobs: readonly OverloadJob[];
  /** Where the timelines go (`scaling-overload-<kind>-timeline.{json,md,svg}`). */
  readonly out: string;
}

/**
 * What caps the worker below the input, beside the windowed count. `cpu`: busy µs per input
 * (`WorkerConfig.costMicros`), a heavier job such as an enrichment that parses and computes;
 * capacity under 1 000 000 / `costMicros` inputs/s, less on a loaded machine. `paced`: the
 * inputs go through `rateLimit` at `ratePerSec` (`WorkerConfig.ratePerSec`), a job bound by
 * an outside quota; inputs wait there unacknowledged, so the source's `maxInFlight` is what
 * stops intake.
 */
export type OverloadJob =
  | { readonly kind: "cpu"; readonly costMicros: number }
  | { readonly kind: "paced"; readonly ratePerSec: number };

const jobName = (job: OverloadJob): string =>
  job.kind === "cpu"
    ? `CPU-bound job (${job.costMicros} µs/input)`
    : `paced job (rateLimit ${job.ratePerSec}/s)`;

export const defaultOverloadBench = {
  // capacity ~5 k inputs/s (100 µs/input gave 3–6 k/s under a load of 10, ~9 k/s when quiet):
  // the steps are about 0.5×, 1×, 2× and 4× of it, all well within what the producer offers
  rates: [2_500, 5_000, 10_000, 20_000],
  stepSeconds: 8,
  maxInFlight: 50_000,
  gcEveryMs: 2_000,
  jobs: [
    { kind: "cpu", costMicros: 100 },
    { kind: "paced", ratePerSec: 5_000 },
  ],
} as const satisfies Omit<OverloadOptions, "brokers" | "out">;

/** One sample of the overload run. */
export interface OverloadSample {
  /** Seconds since the worker was told to go. */
  readonly t: number;
  /** Index of the step in `rates`. */
  readonly step: number;
  readonly targetRate: number;
  readonly produced: number;
  readonly processed: number;
  readonly lag: number;
  readonly rssMb: number;
  readonly heapMb: number;
  /** Heap left after the worker's latest forced full GC (`gcEveryMs`). */
  readonly liveHeapMb: number;
  /** The worker source's unsettled inputs (open windows hold theirs until they fire). */
  readonly inFlight: number;
}

/** Encoded events the staircase cycles through (generated and encoded once, before the clock). */
const POOL = 50_000;

/**
 * Event time advances 2 000 events per second whatever the input rate, so a 10 s window
 * holds 20 k inputs, well inside the worker's `maxInFlight` (50 k), and fires every 20 k
 * inputs processed: memory held by open windows has the same bound at every input rate.
 */
const OVERLOAD_EVENTS_PER_SEC = 2_000;

/** The Kafka timestamp (event time) of the n-th event of the staircase. */
const eventTime = (n: number): number =>
  defaultGeneratorOptions.baseTimeMs +
  Math.floor((n * 1000) / OVERLOAD_EVENTS_PER_SEC);

let pooled: { key: string; value: Buffer }[] | undefined;

/**
 * The producer sends pre-encoded events so it stays cheaper per event than the worker: the
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
 * `scaling-overload`: per job, one worker process runs that job and the windowed count (its
 * capacity capped well below what the producer offers) while this process
 * produces Nexmark events to its one-partition topic at stepped rates (`rates`, `stepSeconds`
 * each), sampling every 500 ms what was produced, what the worker processed (lag = the
 * difference), the worker's RSS, heap and unsettled inputs. Below the worker's capacity lag
 * stays near 0; above it lag grows by (input − capacity) per second, and memory must not
 * grow with it: the backlog stays in Kafka. records/s is what the worker processed over the
 * whole staircase; the per-step table is printed and, with the timeline, written to `out`.
 */
export function overloadSuite(o: OverloadOptions): Suite {
  const topics: string[] = [];
  const groups: string[] = [];
  const workloads = o.jobs.map((job) => staircase(o, job, topics, groups));
  return {
    name: "scaling-overload",
    baseline: workloads[0]!.name,
    workloads,
    teardown: () => dropKafka(o.brokers, topics, groups),
  };
}

/** The timeline files of one job's staircase in `out`, without extension. */
export const timelineBase = (out: string, job: OverloadJob): string =>
  join(out, `scaling-overload-${job.kind}-timeline`);

function staircase(
  o: OverloadOptions,
  job: OverloadJob,
  topics: string[],
  groups: string[],
): Workload {
  let summary = "";
  const total = o.rates.reduce((n, r) => n + r * o.stepSeconds, 0);
  let processedLast = 0;
  return {
    name: jobName(job),
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
        gcEveryMs: o.gcEveryMs,
        ...(job.kind === "cpu"
          ? { costMicros: job.costMicros }
          : { ratePerSec: job.ratePerSec }),
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
        const now = (): number =>
          (performance.timeOrigin + performance.now() - t0) / 1000;
        const sample = (step: number): void => {
          samples.push({
            t: now(),
            step,
            targetRate: o.rates[step]!,
            produced,
            processed: workers.processed,
            lag: produced - workers.processed,
            rssMb: workers.rssMb[0] ?? 0,
            heapMb: workers.heapMb[0] ?? 0,
            liveHeapMb: workers.liveHeapMb[0] ?? 0,
            inFlight: workers.inFlight[0] ?? 0,
          });
        };
        sample(0);
        let nextSample = 0.5;
        for (const [step, rate] of o.rates.entries()) {
          const start = now();
          let inStep = 0;
          for (;;) {
            const elapsed = now() - start;
            if (elapsed >= o.stepSeconds) break;
            // events owed at this rate since the step began, sent in batches of ≤ 20 000
            const owed = Math.floor(elapsed * rate) - inStep;
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
              sample(step);
              nextSample += 0.5;
            }
          }
          sample(step); // the step's end
        }
        await Promise.all(pending);
        const seconds = now();
        processedLast = workers.processed;
        const steps = stepTable(samples, o.rates);
        summary = `; ${describeSteps(steps)}`;
        const paths = writeTimeline(o, job, samples, steps);
        console.log(
          `\nscaling-overload, ${jobName(job)}, maxInFlight ${o.maxInFlight}:\n${stepMarkdown(steps)}timeline: ${paths.join(", ")}`,
        );
        return { seconds };
      } finally {
        await producer.disconnect().catch(() => undefined);
        await workers.stop();
      }
    },
  };
}

/** One row of the overload table: a step of the staircase. */
export interface OverloadStep {
  /** Input rate asked (events/s). */
  readonly rate: number;
  /** Events produced and processed per second over the step. */
  readonly produced: number;
  readonly processed: number;
  readonly lagEnd: number;
  /** Lag added per second over the step (≈ produced − processed). */
  readonly lagGrowth: number;
  readonly rssMaxMb: number;
  readonly heapMaxMb: number;
  /** Highest heap left after a forced GC during the step. */
  readonly liveHeapMaxMb: number;
  readonly inFlightMax: number;
}

/**
 * Per step, from the last sample of the step before (or the first sample) to its own last:
 * the rate asked, what was produced and processed per second, lag at its end and its growth
 * per second, and the worker's peak RSS, heap and unsettled inputs.
 */
export function stepTable(
  samples: readonly OverloadSample[],
  rates: readonly number[],
): OverloadStep[] {
  return rates.flatMap((rate, step) => {
    const s = samples.filter((x) => x.step === step);
    const before = samples.filter((x) => x.step === step - 1);
    const first = before[before.length - 1] ?? s[0];
    const last = s[s.length - 1];
    if (first === undefined || last === undefined || last.t <= first.t)
      return [];
    const dt = last.t - first.t;
    return [
      {
        rate,
        produced: Math.round((last.produced - first.produced) / dt),
        processed: Math.round((last.processed - first.processed) / dt),
        lagEnd: last.lag,
        lagGrowth: Math.round((last.lag - first.lag) / dt),
        rssMaxMb: Math.max(...s.map((x) => x.rssMb)),
        heapMaxMb: Math.max(...s.map((x) => x.heapMb)),
        liveHeapMaxMb: Math.max(...s.map((x) => x.liveHeapMb)),
        inFlightMax: Math.max(...s.map((x) => x.inFlight)),
      },
    ];
  });
}

function describeSteps(steps: readonly OverloadStep[]): string {
  return steps
    .map(
      (r) =>
        `${r.rate / 1000}k: in ${(r.produced / 1000).toFixed(1)}k/s, out ${(r.processed / 1000).toFixed(1)}k/s, lag ${r.lagEnd} (+${r.lagGrowth}/s), RSS ≤ ${r.rssMaxMb} MB, heap ≤ ${r.heapMaxMb} MB (after GC ≤ ${r.liveHeapMaxMb} MB)`,
    )
    .join("; ");
}

const int = (n: number): string =>
  Math.round(n)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, " ");

/** The per-step table as Markdown (the bench prints it and writes it beside the timeline). */
export function stepMarkdown(steps: readonly OverloadStep[]): string {
  return (
    [
      "| input asked (events/s) | produced/s | processed/s | lag at step end | lag growth /s | worker peak RSS MB | worker peak heap MB | peak heap after GC MB | peak in flight |",
      "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
      ...steps.map(
        (r) =>
          `| ${int(r.rate)} | ${int(r.produced)} | ${int(r.processed)} | ${int(r.lagEnd)} | ${int(r.lagGrowth)} | ${r.rssMaxMb} | ${r.heapMaxMb} | ${r.liveHeapMaxMb} | ${int(r.inFlightMax)} |`,
      ),
    ].join("\n") + "\n"
  );
}

/**
 * Writes the samples as JSON, the per-step table as Markdown and lag, RSS and heap over time
 * as SVG into `dir`; returns the three paths.
 */
function writeTimeline(
  o: OverloadOptions,
  job: OverloadJob,
  samples: readonly OverloadSample[],
  steps: readonly OverloadStep[],
): string[] {
  mkdirSync(o.out, { recursive: true });
  const base = timelineBase(o.out, job);
  writeFileSync(
    `${base}.json`,
    JSON.stringify(
      {
        job,
        maxInFlight: o.maxInFlight,
        stepSeconds: o.stepSeconds,
        rates: o.rates,
        steps,
        samples,
      },
      null,
      2,
    ) + "\n",
  );
  writeFileSync(
    `${base}.md`,
    `1 worker, ${jobName(job)}, maxInFlight ${o.maxInFlight}, ${o.stepSeconds} s per step\n\n${stepMarkdown(steps)}`,
  );
  writeFileSync(`${base}.svg`, timelineSvg(samples, jobName(job), o));
  return [`${base}.json`, `${base}.md`, `${base}.svg`];
}

/** Lag (left axis) and the worker's RSS and heap (right axis, MB) over time, steps marked. */
export function timelineSvg(
  samples: readonly OverloadSample[],
  job: string,
  o: Pick<OverloadOptions, "rates" | "maxInFlight">,
): string {
  const W = 720;
  const H = 300;
  const left = 70;
  const right = 60;
  const top = 52;
  const bottom = 40;
  const tMax = Math.max(...samples.map((s) => s.t), 1);
  const lagMax = Math.max(
    ...samples.map((s) => Math.max(s.lag, s.inFlight)),
    o.maxInFlight,
    1,
  );
  // headroom, so a flat RSS does not read as a line pinned to the top
  const mbMax = Math.ceil(
    Math.max(...samples.map((s) => Math.max(s.rssMb, s.heapMb)), 1) * 1.5,
  );
  const x = (t: number): number => left + (t / tMax) * (W - left - right);
  const y = (v: number, max: number): number =>
    H - bottom - (v / max) * (H - top - bottom);
  const line = (v: (s: OverloadSample) => number, max: number): string =>
    samples
      .map(
        (s, i) =>
          `${i === 0 ? "M" : "L"}${x(s.t).toFixed(1)},${y(v(s), max).toFixed(1)}`,
      )
      .join(" ");
  // step boundaries: the first sample of each step after the first
  const marks = o.rates.map((rate, step) => {
    const s = samples.filter((x) => x.step === step);
    const from = step === 0 ? 0 : (s[0]?.t ?? 0);
    const to = s[s.length - 1]?.t ?? from;
    return { rate, from, to };
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">
<text x="10" y="18" font-size="14" font-weight="bold">scaling-overload: 1 worker, ${job}, maxInFlight ${o.maxInFlight}</text>
<text x="10" y="33" fill="#2a6fb0">lag (events, left)</text><text x="130" y="33" fill="#27ae60">in flight (left; dashed: maxInFlight)</text><text x="350" y="33" fill="#c0392b">RSS</text><text x="385" y="33" fill="#e67e22">heap used</text><text x="455" y="33" fill="#8e44ad">heap after GC (MB, right)</text>
<line x1="${left}" y1="${y(o.maxInFlight, lagMax).toFixed(1)}" x2="${W - right}" y2="${y(o.maxInFlight, lagMax).toFixed(1)}" stroke="#27ae60" stroke-dasharray="2 3"/>
<line x1="${left}" y1="${H - bottom}" x2="${W - right}" y2="${H - bottom}" stroke="#999"/>
<line x1="${left}" y1="${top}" x2="${left}" y2="${H - bottom}" stroke="#2a6fb0"/>
<line x1="${W - right}" y1="${top}" x2="${W - right}" y2="${H - bottom}" stroke="#c0392b"/>
<text x="${left - 4}" y="${top + 4}" text-anchor="end" fill="#2a6fb0">${lagMax}</text><text x="${left - 4}" y="${H - bottom}" text-anchor="end" fill="#2a6fb0">0</text>
<text x="${W - right + 4}" y="${top + 4}" fill="#c0392b">${mbMax} MB</text><text x="${W - right + 4}" y="${H - bottom}" fill="#c0392b">0</text>
<text x="${W - right}" y="${H - bottom + 30}" text-anchor="end">${tMax.toFixed(0)} s</text>
${marks
  .map(
    (m, i) =>
      `${i > 0 ? `<line x1="${x(m.from).toFixed(1)}" y1="${top}" x2="${x(m.from).toFixed(1)}" y2="${H - bottom}" stroke="#ccc" stroke-dasharray="4 3"/>` : ""}<text x="${x((m.from + m.to) / 2).toFixed(1)}" y="${H - bottom + 16}" text-anchor="middle">${m.rate / 1000}k/s</text>`,
  )
  .join("\n")}
<path d="${line((s) => s.lag, lagMax)}" fill="none" stroke="#2a6fb0" stroke-width="2"/>
<path d="${line((s) => s.inFlight, lagMax)}" fill="none" stroke="#27ae60" stroke-width="1.5"/>
<path d="${line((s) => s.rssMb, mbMax)}" fill="none" stroke="#c0392b" stroke-width="2"/>
<path d="${line((s) => s.heapMb, mbMax)}" fill="none" stroke="#e67e22" stroke-width="1.5"/>
<path d="${line((s) => s.liveHeapMb, mbMax)}" fill="none" stroke="#8e44ad" stroke-width="2"/>
</svg>
`;
}
