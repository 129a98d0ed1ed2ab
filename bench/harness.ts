import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, totalmem, platform, release } from "node:os";
import { join } from "node:path";

/** One thing to measure: `run` processes `records` records and resolves when done. */
export interface Workload {
  readonly name: string;
  /** Records one run processes (for records/s). */
  readonly records: number;
  /** Payload bytes one run moves (for MB/s, 1 MB = 2^20 bytes); omit where meaningless. */
  readonly bytes?: number;
  /** A short note printed in the table (what the workload does). */
  readonly note?: string;
  /**
   * One run. It may resolve to the seconds its measured part took (e.g. first to last
   * record, leaving out a consumer group join); otherwise the whole call is timed.
   */
  run(): Promise<RunTiming | void> | RunTiming | void;
}

/** What a run may report about itself: the seconds of its measured part. */
export interface RunTiming {
  readonly seconds: number;
  /**
   * CPU seconds of the run when the work happened in other processes (a JVM peer, worker
   * processes); used instead of this process's CPU time.
   */
  readonly cpuSeconds?: number;
}

/**
 * Times a consumer from its first record to its last: `done` resolves once `tick` has
 * counted `count` records, with the seconds since the first tick (a group join before the
 * first record is left out).
 */
export class Stopwatch {
  private t0: bigint | undefined;
  private seen = 0;
  readonly done: Promise<RunTiming>;
  private resolve!: (t: RunTiming) => void;

  constructor(private readonly count: number) {
    this.done = new Promise<RunTiming>((r) => (this.resolve = r));
  }

  /** Counts `n` records (one by default). */
  tick(n = 1): void {
    this.t0 ??= process.hrtime.bigint();
    this.seen += n;
    if (this.seen === this.count)
      this.resolve({
        seconds: Number(process.hrtime.bigint() - this.t0) / 1e9,
      });
  }
}

/**
 * An `eachBatch` handler of the KafkaJS API (kafkajs and @confluentinc/kafka-javascript
 * alike) for the bare-consumer baselines: decodes every value with `codec` and ticks `watch`
 * once per message.
 */
export function decodeBatches(
  codec: { decode(bytes: Buffer): unknown },
  watch: Stopwatch,
): (payload: {
  readonly batch: {
    readonly messages: readonly { readonly value: Buffer | null }[];
  };
}) => Promise<void> {
  return ({ batch }) => {
    for (const m of batch.messages) {
      if (m.value !== null) codec.decode(m.value);
      watch.tick();
    }
    return Promise.resolve();
  };
}

/** A suite: workloads measured in the same process, reported as ratios to `baseline`. */
export interface Suite {
  readonly name: string;
  readonly baseline: string;
  readonly workloads: readonly Workload[];
  /** Goals checked and printed after the table (figures for the note, never test assertions). */
  readonly goals?: readonly Goal[];
  /** Pairs reported as the ratio of their medians, e.g. Sluice against a peer (`sluice bench peers`). */
  readonly comparisons?: readonly Comparison[];
  /** Runs once before the first workload (create topics, tables, seed data); untimed. */
  setup?(): Promise<void>;
  /** Runs once at the end, also after a failure (delete what `setup` and the runs created). */
  teardown?(): Promise<void>;
}

/** A goal: a workload's records/s at least `minRecordsPerSec`, its ratio to the baseline at least `minRatio`. */
export interface Goal {
  readonly workload: string;
  readonly minRecordsPerSec?: number;
  readonly minRatio?: number;
}

/** `workload`'s records/s over `versus`'s, measured in the same run; optionally a goal. */
export interface Comparison {
  readonly workload: string;
  readonly versus: string;
  /** Printed as met / NOT met when given. */
  readonly minRatio?: number;
}

export interface ComparisonResult {
  readonly workload: string;
  readonly versus: string;
  /** Ratio of the two medians. */
  readonly ratio: number;
  /** Ratio within each measured round (the two ran back to back), in round order. */
  readonly perRound: readonly number[];
  /** Median of `perRound`: steadier than `ratio` when the machine's load swings between rounds. */
  readonly medianOfRounds: number;
  /** CPU seconds per run of `workload` over `versus`'s (medians). */
  readonly cpuRatio: number;
  readonly minRatio?: number;
}

export interface WorkloadResult {
  readonly name: string;
  readonly note: string;
  readonly records: number;
  readonly runs: readonly number[];
  /** Median records/s over the measured runs. */
  readonly recordsPerSec: number;
  /** Median MB/s (2^20 bytes) when the workload declares its bytes. */
  readonly mbPerSec?: number;
  readonly ratioToBaseline: number;
  /** CPU seconds (user + system) per run, median. */
  readonly cpuSecPerRun: number;
  readonly peakRssMb: number;
}

export interface SuiteResult {
  readonly suite: string;
  readonly baseline: string;
  readonly startedAt: string;
  readonly machine: MachineInfo;
  readonly runsPerWorkload: number;
  readonly warmupRuns: number;
  readonly results: readonly WorkloadResult[];
  readonly goals: readonly GoalResult[];
  readonly comparisons?: readonly ComparisonResult[];
}

export interface GoalResult {
  readonly goal: string;
  readonly met: boolean;
}

export interface MachineInfo {
  readonly cpu: string;
  readonly cores: number;
  readonly memoryGb: number;
  readonly os: string;
  readonly node: string;
  readonly commit: string;
}

export function machineInfo(): MachineInfo {
  let commit = "unknown";
  try {
    commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
  } catch {
    // not a git checkout
  }
  return {
    cpu: cpus()[0]?.model ?? "unknown",
    cores: cpus().length,
    memoryGb: Math.round(totalmem() / 2 ** 30),
    os: `${platform()} ${release()}`,
    node: process.version,
    commit,
  };
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

/**
 * Runs each workload `warmup` times unmeasured, then `runs` times measured, interleaving
 * workloads round by round so machine noise hits all of them alike.
 */
export async function runSuite(
  suite: Suite,
  options: {
    readonly runs?: number;
    readonly warmup?: number;
    readonly onProgress?: (done: number, total: number, label: string) => void;
  } = {},
): Promise<SuiteResult> {
  const runs = options.runs ?? 5;
  const warmup = options.warmup ?? 2;
  const startedAt = new Date().toISOString();
  const rates = new Map<string, number[]>();
  const cpu = new Map<string, number[]>();
  const peak = new Map<string, number>();
  const total = (runs + warmup) * suite.workloads.length;
  let done = 0;
  try {
    await suite.setup?.();
    for (let round = 0; round < warmup + runs; round++) {
      for (const w of suite.workloads) {
        const c0 = process.cpuUsage();
        const t0 = process.hrtime.bigint();
        const timing = await w.run();
        const wall = Number(process.hrtime.bigint() - t0) / 1e9;
        const seconds = timing ? timing.seconds : wall;
        const c1 = process.cpuUsage(c0);
        const cpuSeconds = timing?.cpuSeconds ?? (c1.user + c1.system) / 1e6;
        done += 1;
        options.onProgress?.(done, total, w.name);
        if (round < warmup) continue;
        (rates.get(w.name) ?? rates.set(w.name, []).get(w.name)!).push(
          w.records / seconds,
        );
        (cpu.get(w.name) ?? cpu.set(w.name, []).get(w.name)!).push(cpuSeconds);
        peak.set(
          w.name,
          Math.max(peak.get(w.name) ?? 0, process.memoryUsage().rss / 2 ** 20),
        );
      }
    }
  } finally {
    await suite.teardown?.();
  }
  const baseRate = median(rates.get(suite.baseline) ?? [Number.NaN]);
  const results = suite.workloads.map((w): WorkloadResult => {
    const r = rates.get(w.name)!;
    const rate = median(r);
    return {
      name: w.name,
      note: w.note ?? "",
      records: w.records,
      runs: r.map((x) => Math.round(x)),
      recordsPerSec: Math.round(rate),
      ...(w.bytes !== undefined
        ? { mbPerSec: (rate * (w.bytes / w.records)) / 2 ** 20 }
        : {}),
      ratioToBaseline: rate / baseRate,
      cpuSecPerRun: median(cpu.get(w.name)!),
      peakRssMb: Math.round(peak.get(w.name) ?? 0),
    };
  });
  const goals = (suite.goals ?? []).flatMap((g): GoalResult[] => {
    const r = results.find((x) => x.name === g.workload);
    if (r === undefined)
      return [{ goal: `${g.workload}: no such workload`, met: false }];
    const out: GoalResult[] = [];
    if (g.minRecordsPerSec !== undefined) {
      out.push({
        goal: `${g.workload} ≥ ${fmt(g.minRecordsPerSec)} records/s (measured ${fmt(r.recordsPerSec)})`,
        met: r.recordsPerSec >= g.minRecordsPerSec,
      });
    }
    if (g.minRatio !== undefined) {
      out.push({
        goal: `${g.workload} within ${(1 / g.minRatio).toFixed(1)}× of ${suite.baseline} (measured ${(1 / r.ratioToBaseline).toFixed(2)}× slower)`,
        met: r.ratioToBaseline >= g.minRatio,
      });
    }
    return out;
  });
  const comparisons = (suite.comparisons ?? []).map((c): ComparisonResult => {
    const a = results.find((x) => x.name === c.workload);
    const b = results.find((x) => x.name === c.versus);
    const perRound =
      a !== undefined && b !== undefined
        ? a.runs.map((x, i) => x / (b.runs[i] ?? Number.NaN))
        : [];
    return {
      workload: c.workload,
      versus: c.versus,
      ratio:
        a !== undefined && b !== undefined
          ? a.recordsPerSec / b.recordsPerSec
          : Number.NaN,
      perRound,
      medianOfRounds: perRound.length > 0 ? median(perRound) : Number.NaN,
      cpuRatio:
        a !== undefined && b !== undefined
          ? a.cpuSecPerRun / b.cpuSecPerRun
          : Number.NaN,
      ...(c.minRatio !== undefined ? { minRatio: c.minRatio } : {}),
    };
  });
  return {
    suite: suite.name,
    baseline: suite.baseline,
    startedAt,
    machine: machineInfo(),
    runsPerWorkload: runs,
    warmupRuns: warmup,
    results,
    goals,
    ...(comparisons.length > 0 ? { comparisons } : {}),
  };
}

const fmt = (n: number): string =>
  n >= 1e6
    ? `${(n / 1e6).toFixed(2)} M`
    : n >= 1e3
      ? `${(n / 1e3).toFixed(1)} k`
      : n.toFixed(0);

/** A Markdown table of a suite's results, ratios against its baseline. */
export function markdown(result: SuiteResult): string {
  const mb = result.results.some((r) => r.mbPerSec !== undefined);
  const lines = [
    `### ${result.suite}`,
    "",
    `${result.machine.cpu}, ${result.machine.cores} cores, ${result.machine.memoryGb} GiB, Node ${result.machine.node}, commit ${result.machine.commit}; median of ${result.runsPerWorkload} runs after ${result.warmupRuns} warm-up runs, ${result.startedAt}.`,
    "",
    `| workload | records/s |${mb ? " MB/s |" : ""} × ${result.baseline} | CPU s/run | peak RSS MB | what it does |`,
    `|---|---:|${mb ? "---:|" : ""}---:|---:|---:|---|`,
    ...result.results.map(
      (r) =>
        `| ${r.name} | ${fmt(r.recordsPerSec)} |${mb ? ` ${r.mbPerSec === undefined ? "" : r.mbPerSec.toFixed(1)} |` : ""} ${r.ratioToBaseline.toFixed(2)} | ${r.cpuSecPerRun.toFixed(2)} | ${r.peakRssMb} | ${r.note} |`,
    ),
  ];
  if (result.comparisons !== undefined && result.comparisons.length > 0)
    lines.push(
      "",
      "| workload | versus | records/s ratio of medians | per round (median) | CPU s/run ratio |",
      "|---|---|---:|---|---:|",
      ...result.comparisons.map(
        (c) =>
          `| ${c.workload} | ${c.versus} | ${c.ratio.toFixed(2)}${c.minRatio === undefined ? "" : c.ratio >= c.minRatio ? ` (goal ≥ ${c.minRatio}: met)` : ` (goal ≥ ${c.minRatio}: NOT met)`} | ${c.perRound.map((x) => x.toFixed(2)).join(", ")} (${c.medianOfRounds.toFixed(2)}) | ${c.cpuRatio.toFixed(2)} |`,
      ),
    );
  if (result.goals.length > 0)
    lines.push(
      "",
      "Goals:",
      ...result.goals.map((g) => `- ${g.met ? "met" : "NOT met"}: ${g.goal}`),
    );
  return lines.join("\n") + "\n";
}

/** A horizontal bar chart (SVG) of records/s per workload. */
export function svgChart(result: SuiteResult): string {
  const rowH = 28;
  const labelW = 330;
  const barW = 420;
  const max = Math.max(...result.results.map((r) => r.recordsPerSec), 1);
  const height = 40 + rowH * result.results.length;
  const esc = (s: string): string =>
    s.replace(/&/g, "&amp;").replace(/</g, "&lt;");
  const rows = result.results.map((r, i) => {
    const y = 30 + i * rowH;
    const w = Math.max(1, Math.round((r.recordsPerSec / max) * barW));
    return [
      `<text x="${labelW - 8}" y="${y + 17}" text-anchor="end" font-size="13">${esc(r.name)}</text>`,
      `<rect x="${labelW}" y="${y + 4}" width="${w}" height="${rowH - 8}" fill="${r.name === result.baseline ? "#999" : "#2a6fb0"}"/>`,
      `<text x="${labelW + w + 6}" y="${y + 17}" font-size="12">${fmt(r.recordsPerSec)}/s (×${r.ratioToBaseline.toFixed(2)})</text>`,
    ].join("");
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${labelW + barW + 170}" height="${height}" font-family="sans-serif">
<text x="10" y="18" font-size="14" font-weight="bold">${esc(result.suite)}: records/s (grey: baseline ${esc(result.baseline)})</text>
${rows.join("\n")}
</svg>
`;
}

/** Writes `<dir>/<suite>.json`, `.md` and `.svg`; returns the paths. */
export function writeResults(
  result: SuiteResult,
  dir: string,
): { json: string; md: string; svg: string } {
  mkdirSync(dir, { recursive: true });
  const base = join(dir, result.suite);
  const paths = { json: `${base}.json`, md: `${base}.md`, svg: `${base}.svg` };
  writeFileSync(paths.json, JSON.stringify(result, null, 2) + "\n");
  writeFileSync(paths.md, markdown(result));
  writeFileSync(paths.svg, svgChart(result));
  return paths;
}

/**
 * One table over the parts of a suite that holds several (`sluice bench nexmark` runs one
 * part per query): each part's baseline and every other workload with its ratio to it.
 *
 * @example
 * ```ts
 * writeFileSync("bench/results/nexmark-summary.md", summaryMarkdown("nexmark", results));
 * ```
 */
export function summaryMarkdown(
  name: string,
  results: readonly SuiteResult[],
): string {
  const first = results[0];
  const lines = [
    `### ${name}: ${results.length} parts`,
    "",
    first === undefined
      ? "No parts ran."
      : `${first.machine.cpu}, ${first.machine.cores} cores, Node ${first.machine.node}, commit ${first.machine.commit}; median of ${first.runsPerWorkload} runs after ${first.warmupRuns} warm-up runs, from ${first.startedAt}.`,
    "",
    "| part | baseline | baseline records/s | workload | records/s | × baseline | CPU s/run | goals |",
    "|---|---|---:|---|---:|---:|---:|---|",
  ];
  for (const r of results) {
    const base = r.results.find((w) => w.name === r.baseline);
    const goals =
      r.goals.length === 0
        ? ""
        : r.goals.every((g) => g.met)
          ? "all met"
          : `NOT met: ${r.goals
              .filter((g) => !g.met)
              .map((g) => g.goal)
              .join("; ")}`;
    for (const w of r.results)
      if (w.name !== r.baseline)
        lines.push(
          `| ${r.suite} | ${r.baseline} | ${base === undefined ? "" : fmt(base.recordsPerSec)} | ${w.name} | ${fmt(w.recordsPerSec)} | ${w.ratioToBaseline.toFixed(2)} | ${w.cpuSecPerRun.toFixed(2)} | ${goals} |`,
        );
  }
  return lines.join("\n") + "\n";
}

/**
 * A bar chart (SVG) of every non-baseline workload's ratio to its part's baseline, with guide
 * lines at 1 (as fast as the baseline) and 0.5 (twice its cost): the parts of a suite side by
 * side, which one chart per part does not show.
 *
 * @example
 * ```ts
 * writeFileSync("bench/results/nexmark-summary.svg", summaryChart("nexmark", results));
 * ```
 */
export function summaryChart(
  name: string,
  results: readonly SuiteResult[],
): string {
  const rows = results.flatMap((r) =>
    r.results
      .filter((w) => w.name !== r.baseline)
      .map((w) => ({ label: w.name, base: r.baseline, w })),
  );
  const rowH = 26;
  const labelW = 20 + 7.5 * Math.max(10, ...rows.map((x) => x.label.length));
  const barW = 460;
  const ratios = rows.map((x) => x.w.ratioToBaseline).filter((r) => r > 0);
  const max = Math.max(1.25, ...ratios);
  const min = Math.min(0.5, ...ratios);
  // Pipelines run at a thousandth of their baseline and operators near it: past a span of
  // 20× the axis is logarithmic, so both stay readable.
  const log = max / min > 20;
  const lo = log ? Math.log10(min) - 0.15 : 0;
  const hi = log ? Math.log10(max) + 0.05 : max;
  const x = (ratio: number): number => {
    const v = log ? Math.log10(Math.max(ratio, min)) : ratio;
    return labelW + Math.max(1, Math.round(((v - lo) / (hi - lo)) * barW));
  };
  const ratioText = (r: number): string =>
    r >= 0.1 ? r.toFixed(2) : r.toPrecision(2);
  const top = 34;
  const height = top + 44 + rowH * rows.length;
  const esc = (s: string): string =>
    s.replace(/&/g, "&amp;").replace(/</g, "&lt;");
  const bars = rows.map((row, i) => {
    const y = top + i * rowH;
    const r = row.w.ratioToBaseline;
    const w = x(r) - labelW;
    return [
      `<text x="${labelW - 8}" y="${y + 16}" text-anchor="end" font-size="13">${esc(row.label)}</text>`,
      `<rect x="${labelW}" y="${y + 4}" width="${w}" height="${rowH - 8}" fill="${r >= 1 ? "#2a8f4a" : r >= 0.5 ? "#2a6fb0" : "#c0392b"}"/>`,
      `<text x="${labelW + w + 6}" y="${y + 16}" font-size="12">×${ratioText(r)} of ${esc(row.base)} (${fmt(row.w.recordsPerSec)}/s)</text>`,
    ].join("");
  });
  const guide = (ratio: number, text: string, line: number): string =>
    `<line x1="${x(ratio)}" y1="${top - 4}" x2="${x(ratio)}" y2="${height - 40 + line * 16}" stroke="#555" stroke-dasharray="4 3"/>` +
    `<text x="${x(ratio)}" y="${height - 30 + line * 16}" text-anchor="middle" font-size="11">${text}</text>`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${Math.round(labelW + barW + 300)}" height="${height}" font-family="sans-serif">
<text x="10" y="18" font-size="14" font-weight="bold">${esc(name)}: records/s as a ratio of each part's baseline, same run${log ? " (log scale)" : ""}</text>
${bars.join("\n")}
${guide(1, "×1 baseline", 1)}
${guide(0.5, "×0.5 (2× its cost)", 0)}
</svg>
`;
}

/** Writes `<dir>/<name>-summary.md` and `.svg` for a suite of several parts; returns the paths. */
export function writeSummary(
  name: string,
  results: readonly SuiteResult[],
  dir: string,
): { md: string; svg: string } {
  mkdirSync(dir, { recursive: true });
  const base = join(dir, `${name}-summary`);
  const paths = { md: `${base}.md`, svg: `${base}.svg` };
  writeFileSync(paths.md, summaryMarkdown(name, results));
  writeFileSync(paths.svg, summaryChart(name, results));
  return paths;
}
