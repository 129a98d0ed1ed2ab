// `npm run chaos`: stateful deployed jobs as 2–3 real `sluice run` processes of one group on
// private Kafka/PostgreSQL/memcached/Cassandra, an independent producer, a seeded fault plan,
// and a verdict computed without Sluice's code. See bench/chaos/README.md.
import { Command, InvalidArgumentError } from "commander";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { Fleet, type Crash } from "./fleet.js";
import { ChaosKafka } from "./kafka.js";
import {
  faultPlan,
  FAULT_KINDS,
  parseKinds,
  type Fault,
  type FaultKind,
} from "./plan.js";
import { enrichmentScenario } from "./enrichment.js";
import { recommendationScenario } from "./recommendation.js";
import type { Scenario, ScenarioContext, Verdict } from "./scenario.js";
import { PrivateServices, type ChaosService } from "./services.js";

const SCENARIOS: Readonly<Record<string, (portBase: number) => Scenario>> = {
  "reviews-recommendation": () => recommendationScenario(),
  "reviews-enrichment": (portBase) => enrichmentScenario(portBase),
};

interface Options {
  readonly minutes: number;
  readonly seed: number;
  readonly jobs: readonly string[];
  readonly faults: readonly FaultKind[];
  readonly instances: number;
  readonly rate: number;
  readonly backlog: number;
  readonly portBase: number;
  readonly stateDir: string;
  readonly recoveryTimeoutS: number;
  readonly drainTimeoutS: number;
  readonly keep: boolean;
  /** Environment overrides for the job processes (`--set K=V`): a deviation from the deployed defaults, printed in the report. */
  readonly set: Readonly<Record<string, string>>;
}

interface StepResult {
  readonly step: number;
  readonly kind: FaultKind;
  readonly detail: string;
  readonly faultSeconds: number;
  /** Seconds from the end of the fault until the group committed everything written before it ended; undefined = not within the deadline. */
  readonly recoverySeconds: number | undefined;
}

interface JobResult {
  readonly job: string;
  readonly produced: number;
  readonly steps: readonly StepResult[];
  readonly verdict: Verdict | undefined;
  readonly drained: boolean;
  readonly crashes: readonly Crash[];
  readonly maxRssMb: number;
  readonly error?: string;
}

/** The repository root (where bin/sluice.mjs is), from bench/chaos/ or dist/bench/chaos/. */
function findRepoRoot(): string {
  let dir = fileURLToPath(new URL(".", import.meta.url));
  for (let k = 0; k < 5; k++) {
    if (existsSync(join(dir, "bin", "sluice.mjs"))) return dir;
    dir = resolve(dir, "..");
  }
  throw new Error("bin/sluice.mjs not found above bench/chaos/");
}
const repoRoot = findRepoRoot();
/** Every fleet started, so a failure anywhere still SIGKILLs their processes. */
const fleets: Fleet[] = [];
function track(f: Fleet): Fleet {
  fleets.push(f);
  return f;
}
const started = Date.now();

function progress(line: string): void {
  const s = Math.round((Date.now() - started) / 1000);
  const mm = String(Math.floor(s / 60)).padStart(2, "0");
  const ss = String(s % 60).padStart(2, "0");
  console.log(`[chaos ${mm}:${ss}] ${line}`);
}

const int = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0)
    throw new InvalidArgumentError(`${name} must be a non-negative integer`);
  return n;
};

function parseOptions(argv: readonly string[]): Options {
  const cmd = new Command("npm run chaos --")
    .description(
      "Runs stateful deployed Sluice jobs as real `sluice run` processes of one consumer group on PRIVATE Kafka, PostgreSQL, memcached and Cassandra (other ports, own state dir; the shared stack is never touched), feeds them from an independent producer, injects a fault plan drawn from --seed, and compares what the outputs hold with what the input topic calls for. Exits 1 on any lost, double-counted or wrong effect, or when a job does not drain.",
    )
    .option(
      "--minutes <n>",
      "fault time per job: the plan has every fault kind once, then random faults until this many minutes pass (0 = each kind once: the short fixed plan)",
      int("--minutes"),
      0,
    )
    .option(
      "--seed <n>",
      "seed of the fault plan and the input",
      int("--seed"),
      1,
    )
    .option(
      "--jobs <list>",
      `jobs to run (${Object.keys(SCENARIOS).join(", ")})`,
      Object.keys(SCENARIOS).join(","),
    )
    .option(
      "--faults <list>",
      `fault kinds (${FAULT_KINDS.join(", ")})`,
      FAULT_KINDS.join(","),
    )
    .option(
      "--instances <n>",
      "processes per job between faults (2–3)",
      int("--instances"),
      2,
    )
    .option(
      "--rate <n>",
      "input records per second while faults run",
      int("--rate"),
      100,
    )
    .option(
      "--backlog <n>",
      "records written before the first process starts",
      int("--backlog"),
      5_000,
    )
    .option(
      "--port-base <n>",
      "private services listen on base+92 (Kafka), +93 (controller), +32 (PostgreSQL), +11 (memcached), +42 (Cassandra), +70 (Cassandra storage); job HTTP ports from base+500",
      int("--port-base"),
      31_000,
    )
    .option(
      "--state-dir <dir>",
      "data and logs of the private services and the job processes (wiped at start)",
      join(homedir(), ".local", "state", "sluice-chaos"),
    )
    .option(
      "--recovery-timeout <s>",
      "how long to wait after a fault for the group to commit what was written before it ended",
      int("--recovery-timeout"),
      180,
    )
    .option(
      "--drain-timeout <s>",
      "how long to wait at the end for the group to commit the whole input",
      int("--drain-timeout"),
      300,
    )
    .option(
      "--set <K=V>",
      "environment for the job processes beyond the deployed defaults (repeatable), e.g. SLUICE_JOB__MAX_IN_FLIGHT=500 to look past a known crash; the report lists it",
      (v: string, prev: string[]) => [...prev, v],
      [] as string[],
    )
    .option(
      "--keep",
      "leave the private services running at the end (for psql)",
      false,
    )
    .addHelpText(
      "after",
      `
Examples:
  npm run chaos                                  # short fixed plan: each fault kind once per job
  npm run chaos -- --minutes 30 --seed 7         # a long run with another seed
  npm run chaos -- --faults sigkill,scale --seed 3 --instances 3
  npm run chaos -- --faults sigstop --backlog 0  # one fault kind, no backlog

Output: a progress line per step, a table per job (expected vs got, lost, doubled, wrong,
recovery seconds per fault, crashes, max RSS), JSON in .sluice/chaos/. Logs of every
process: <state-dir>/logs/.`,
    )
    .exitOverride();
  cmd.parse([...argv], { from: "user" });
  const o = cmd.opts<{
    minutes: number;
    seed: number;
    jobs: string;
    faults: string;
    instances: number;
    rate: number;
    backlog: number;
    portBase: number;
    stateDir: string;
    recoveryTimeout: number;
    drainTimeout: number;
    keep: boolean;
    set: string[];
  }>();
  const set: Record<string, string> = {};
  for (const kv of o.set) {
    const m = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(kv);
    if (m === null)
      throw new InvalidArgumentError(
        `--set ${kv}: expected NAME=value (an environment variable)`,
      );
    set[m[1]!] = m[2]!;
  }
  const jobs = o.jobs
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  for (const j of jobs)
    if (SCENARIOS[j] === undefined)
      throw new InvalidArgumentError(
        `--jobs: unknown job "${j}" (one of ${Object.keys(SCENARIOS).join(", ")})`,
      );
  if (o.instances < 1 || o.instances > 3)
    throw new InvalidArgumentError("--instances must be 1, 2 or 3");
  return {
    minutes: o.minutes,
    seed: o.seed,
    jobs,
    faults: parseKinds(o.faults),
    instances: o.instances,
    rate: o.rate,
    backlog: o.backlog,
    portBase: o.portBase,
    stateDir: resolve(o.stateDir),
    recoveryTimeoutS: o.recoveryTimeout,
    drainTimeoutS: o.drainTimeout,
    keep: o.keep,
    set,
  };
}

function jobEnv(
  services: PrivateServices,
  scenarioEnv: Readonly<Record<string, string>>,
  stateDir: string,
  set: Readonly<Record<string, string>>,
): NodeJS.ProcessEnv {
  const e = services.endpoints;
  const env: NodeJS.ProcessEnv = {};
  // The parent's environment minus anything that would point a job at the shared stack.
  for (const [k, v] of Object.entries(process.env))
    if (
      !k.startsWith("SLUICE_") &&
      ![
        "KAFKA_BROKERS",
        "DATABASE_URL",
        "MEMCACHED_SERVERS",
        "CASSANDRA_CONTACT_POINTS",
        "CASSANDRA_LOCAL_DC",
      ].includes(k)
    )
      env[k] = v;
  return {
    ...env,
    // The deployed sluice-runtime ConfigMap (k3s/base/infra/runtime-env.yaml), on private addresses.
    KAFKA_BROKERS: e.kafkaBrokers,
    CASSANDRA_CONTACT_POINTS: e.cassandraContactPoints,
    CASSANDRA_LOCAL_DC: "datacenter1",
    MEMCACHED_SERVERS: e.memcachedServers,
    DATABASE_URL: e.databaseUrl,
    SLUICE_LOG_LEVEL: "info",
    SLUICE_SHUTDOWN_TIMEOUT_MS: "45000",
    SLUICE_CHECKPOINT_STORE: "postgres",
    SLUICE_STATE_DIR: join(stateDir, "job-state"),
    ...scenarioEnv,
    ...set,
  };
}

/** Sum over partitions of max(0, target - committed). */
function behind(
  committed: Map<number, number>,
  target: Map<number, number>,
): number {
  let n = 0;
  for (const [p, end] of target)
    n += Math.max(0, end - Math.max(0, committed.get(p) ?? 0));
  return n;
}

async function waitCommitted(
  kafka: ChaosKafka,
  scenario: Scenario,
  target: Map<number, number>,
  timeoutS: number,
  what: string,
): Promise<number | undefined> {
  const t0 = Date.now();
  const deadline = t0 + timeoutS * 1000;
  let lastLog = t0;
  let left = -1;
  while (Date.now() < deadline) {
    try {
      const c = await kafka.committed(
        scenario.group,
        scenario.inputTopic,
        10_000,
      );
      left = behind(c, target);
      if (left === 0) return (Date.now() - t0) / 1000;
    } catch {
      // the broker may be restarting: keep polling until the deadline
    }
    if (Date.now() - lastLog > 15_000) {
      lastLog = Date.now();
      progress(
        `  waiting for group ${scenario.group} to commit ${what}: ${left} records behind (deadline ${timeoutS} s)`,
      );
    }
    await sleep(500);
  }
  progress(
    `  group ${scenario.group} did not commit ${what} within ${timeoutS} s (${left} records behind)`,
  );
  return undefined;
}

async function injectFault(
  f: Fault,
  fleet: Fleet,
  services: PrivateServices,
  instances: number,
): Promise<string> {
  switch (f.kind) {
    case "sigkill": {
      const id = await fleet.sigkill(f.target, f.durationMs);
      return `SIGKILL #${id}, restarted after ${(f.durationMs / 1000).toFixed(1)} s`;
    }
    case "sigstop": {
      const id = await fleet.sigstop(f.target, f.durationMs);
      return `SIGSTOP #${id} for ${(f.durationMs / 1000).toFixed(1)} s (past the 10 s session timeout), then SIGCONT`;
    }
    case "scale": {
      await fleet.scaleTo(1);
      await sleep(f.durationMs / 2);
      await fleet.scaleTo(3);
      await sleep(f.durationMs / 2);
      await fleet.scaleTo(1);
      await sleep(f.durationMs / 2);
      await fleet.scaleTo(instances);
      return `scale 1 → 3 → 1 → ${instances}, ${(f.durationMs / 2000).toFixed(1)} s apart`;
    }
    default: {
      const s: ChaosService = f.kind;
      await services.restart(s, f.durationMs);
      return `${s} stopped (crash-like), down ${(f.durationMs / 1000).toFixed(1)} s, started again`;
    }
  }
}

async function runJob(
  o: Options,
  scenario: Scenario,
  services: PrivateServices,
  ctx: ScenarioContext,
  jobIndex: number,
): Promise<JobResult> {
  progress(`${scenario.job}: preparing (catalogue, topics)`);
  await scenario.prepare(ctx);
  const logDir = join(o.stateDir, "logs");
  const env = jobEnv(services, scenario.env, o.stateDir, o.set);
  // Helpers get the runtime environment and their own settings only: job configs are strict.
  const helperEnv = jobEnv(services, {}, o.stateDir, {});
  const helpers = (scenario.helpers ?? []).map((h, k) =>
    track(
      new Fleet(
        h.job,
        { ...helperEnv, ...h.env },
        repoRoot,
        logDir,
        o.portBase + 500 + jobIndex * 20 + 10 + k,
        progress,
      ),
    ),
  );
  for (const h of helpers) {
    progress(
      `${scenario.job}: starting ${h.job} (one process, not under test)`,
    );
    await h.scaleTo(1);
  }
  for (const h of helpers) await h.ready(180_000);
  let produced = 0;
  if (o.backlog > 0) {
    for (let left = o.backlog; left > 0; left -= 1000) {
      await scenario.produce(ctx, Math.min(1000, left));
    }
    produced += o.backlog;
    progress(
      `${scenario.job}: ${o.backlog} records of backlog written to ${scenario.inputTopic}`,
    );
  }
  const fleet = track(
    new Fleet(
      scenario.job,
      env,
      repoRoot,
      logDir,
      o.portBase + 500 + jobIndex * 20,
      progress,
    ),
  );
  const steps: StepResult[] = [];
  let verdict: Verdict | undefined;
  let drained = false;
  let error: string | undefined;
  // The independent producer: `rate` records/s in half-second batches, through every fault.
  let producing = true;
  const producer = (async () => {
    while (producing) {
      const t = Date.now();
      const n = Math.max(1, Math.round(o.rate / 2));
      try {
        await scenario.produce(ctx, n);
        produced += n;
      } catch (e) {
        progress(`  producer: ${String(e)}`);
      }
      await sleep(Math.max(0, 500 - (Date.now() - t)));
    }
  })();
  try {
    progress(
      `${scenario.job}: starting ${o.instances} processes (sluice run ${scenario.job}, deployed defaults)`,
    );
    await fleet.scaleTo(o.instances);
    const readyT0 = Date.now();
    await fleet.ready(180_000);
    progress(
      `${scenario.job}: all ${o.instances} ready in ${((Date.now() - readyT0) / 1000).toFixed(1)} s`,
    );
    const base = await waitCommitted(
      ctx.kafka,
      scenario,
      await ctx.kafka.endOffsets(scenario.inputTopic),
      o.recoveryTimeoutS,
      "the backlog",
    );
    progress(
      `${scenario.job}: backlog committed${base === undefined ? " — NOT within the deadline" : ` in ${base.toFixed(1)} s`}`,
    );

    const plan = faultPlan({
      seed: o.seed + jobIndex,
      kinds: o.faults,
      extra: o.minutes > 0 ? 1000 : 0,
      sessionTimeoutMs: 10_000,
    });
    const until = Date.now() + o.minutes * 60_000;
    for (let k = 0; k < plan.length; k++) {
      const f = plan[k]!;
      if (k >= o.faults.length && Date.now() >= until) break;
      await sleep(f.gapMs);
      progress(
        `${scenario.job}: step ${k + 1}${o.minutes > 0 ? "" : `/${plan.length}`} ${f.kind} …`,
      );
      const t0 = Date.now();
      const detail = await injectFault(f, fleet, services, o.instances);
      const faultSeconds = (Date.now() - t0) / 1000;
      const target = await ctx.kafka.endOffsets(scenario.inputTopic);
      const rec = await waitCommitted(
        ctx.kafka,
        scenario,
        target,
        o.recoveryTimeoutS,
        `what was written before the ${f.kind} ended`,
      );
      steps.push({
        step: k + 1,
        kind: f.kind,
        detail,
        faultSeconds,
        recoverySeconds: rec,
      });
      progress(
        `${scenario.job}: step ${k + 1} ${detail}; recovered ${rec === undefined ? `NOT within ${o.recoveryTimeoutS} s` : `in ${rec.toFixed(1)} s`}`,
      );
    }
    producing = false;
    await producer;
    progress(
      `${scenario.job}: producer stopped after ${produced} records; draining`,
    );
    const end = await ctx.kafka.endOffsets(scenario.inputTopic);
    drained =
      (await waitCommitted(
        ctx.kafka,
        scenario,
        end,
        o.drainTimeoutS,
        "the whole input",
      )) !== undefined;
    progress(`${scenario.job}: stopping the processes (SIGTERM)`);
    await fleet.stop();
    for (const h of helpers) await h.stop();
    progress(`${scenario.job}: reading the input back and the outputs`);
    verdict = await scenario.check(ctx);
  } catch (e) {
    error = e instanceof Error ? e.message : String(e);
    progress(`${scenario.job}: FAILED: ${error}`);
    fleet.killAll();
    for (const h of helpers) h.killAll();
  } finally {
    producing = false;
    await producer;
  }
  return {
    job: scenario.job,
    produced,
    steps,
    verdict,
    drained,
    crashes: [...fleet.crashes, ...helpers.flatMap((h) => h.crashes)],
    maxRssMb: Math.round(fleet.maxRssBytes / 1048576),
    ...(error !== undefined ? { error } : {}),
  };
}

function failed(r: JobResult): boolean {
  return (
    r.error !== undefined ||
    !r.drained ||
    r.verdict === undefined ||
    r.verdict.lost > 0 ||
    r.verdict.doubled > 0 ||
    r.verdict.wrong > 0
  );
}

function report(o: Options, results: readonly JobResult[]): string {
  const lines: string[] = [];
  lines.push(
    `\n## chaos seed ${o.seed}, ${o.instances} processes per job, faults: ${o.faults.join(", ")}${
      Object.keys(o.set).length > 0
        ? `; NOT the deployed defaults: ${Object.entries(o.set)
            .map(([k, v]) => `${k}=${v}`)
            .join(" ")}`
        : ""
    }\n`,
  );
  lines.push(
    "| job | faults | expected | got | lost | doubled | wrong | recovery s per fault | crashes | max RSS MB | verdict |",
  );
  lines.push(
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | --- |",
  );
  for (const r of results) {
    const v = r.verdict;
    const rec = r.steps
      .map(
        (s) =>
          `${s.kind} ${s.recoverySeconds === undefined ? ">" + String(o.recoveryTimeoutS) : s.recoverySeconds.toFixed(0)}`,
      )
      .join(", ");
    lines.push(
      `| ${r.job} | ${r.steps.length} | ${v?.expected ?? "?"} | ${v?.got ?? "?"} | ${v?.lost ?? "?"} | ${v?.doubled ?? "?"} | ${v?.wrong ?? "?"} | ${rec} | ${r.crashes.length} | ${r.maxRssMb} | ${failed(r) ? "FAIL" : "pass"}${r.drained ? "" : " (not drained)"} |`,
    );
  }
  for (const r of results) {
    lines.push(`\n### ${r.job}: ${r.produced} records written`);
    for (const s of r.steps)
      lines.push(
        `- step ${s.step} ${s.kind}: ${s.detail} (${s.faultSeconds.toFixed(1)} s); recovered ${s.recoverySeconds === undefined ? "NOT within the deadline" : `in ${s.recoverySeconds.toFixed(1)} s`}`,
      );
    if (r.error !== undefined) lines.push(`- error: ${r.error}`);
    for (const e of r.verdict?.examples ?? []) lines.push(`- ${e}`);
    for (const c of r.crashes.slice(0, 5))
      lines.push(
        `- crash ${c.job}#${c.instance} (${c.exit}):\n\`\`\`\n${c.logTail.slice(-1500)}\n\`\`\``,
      );
    if (r.crashes.length > 5)
      lines.push(`- … ${r.crashes.length - 5} more crashes`);
  }
  return lines.join("\n");
}

export async function main(argv: readonly string[]): Promise<number> {
  let o: Options;
  try {
    o = parseOptions(argv);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === "commander.helpDisplayed" || code === "commander.help")
      return 0;
    if (!(e instanceof Error && "exitCode" in e))
      console.error(String(e instanceof Error ? e.message : e));
    return 2;
  }
  progress(
    `seed ${o.seed}, jobs ${o.jobs.join(", ")}, faults ${o.faults.join(", ")}, state in ${o.stateDir}`,
  );
  const services = new PrivateServices(o.stateDir, o.portBase, progress);
  const needed = new Set<ChaosService>();
  const scenarios = o.jobs.map((j) => SCENARIOS[j]!(o.portBase));
  for (const s of scenarios) for (const x of s.services) needed.add(x);
  const order: ChaosService[] = (
    ["memcached", "postgres", "kafka", "cassandra"] as const
  ).filter((s) => needed.has(s));
  let kafka: ChaosKafka | undefined;
  let pool: pg.Pool | undefined;
  const results: JobResult[] = [];
  const onSignal = () => {
    progress(
      "interrupted: stopping the job processes and the private services",
    );
    for (const f of fleets) f.killAll();
    void services.stopAll().finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  try {
    await services.start(order);
    kafka = new ChaosKafka(services.endpoints.kafkaBrokers);
    pool = new pg.Pool({
      connectionString: services.endpoints.databaseUrl,
      max: 4,
    });
    pool.on("error", () => undefined); // idle clients die with a PostgreSQL restart
    const ctx: ScenarioContext = {
      kafka,
      pg: pool,
      cassandraContactPoint: services.endpoints.cassandraContactPoints,
      seed: o.seed,
      progress,
    };
    for (let i = 0; i < scenarios.length; i++) {
      const sc = scenarios[i]!;
      try {
        results.push(await runJob(o, sc, services, ctx, i));
      } catch (e) {
        // A job that could not even start (helpers, preparation) is a failed job; the
        // others still run and the report still prints.
        const error = e instanceof Error ? e.message : String(e);
        progress(`${sc.job}: FAILED before its faults: ${error}`);
        for (const f of fleets) f.killAll();
        results.push({
          job: sc.job,
          produced: 0,
          steps: [],
          verdict: undefined,
          drained: false,
          crashes: fleets
            .filter(
              (f) =>
                f.job === sc.job ||
                (sc.helpers ?? []).some((h) => h.job === f.job),
            )
            .flatMap((f) => f.crashes),
          maxRssMb: 0,
          error,
        });
      }
    }
  } finally {
    for (const f of fleets) f.killAll();
    await kafka?.close();
    await pool?.end().catch(() => undefined);
    if (!o.keep) await services.stopAll();
    else
      progress(
        `--keep: private services left running (PostgreSQL ${services.endpoints.databaseUrl})`,
      );
  }
  const text = report(o, results);
  console.log(text);
  const outDir = join(repoRoot, ".sluice", "chaos");
  mkdirSync(outDir, { recursive: true });
  const file = join(
    outDir,
    `chaos-seed${o.seed}-${new Date().toISOString().replace(/[:.]/g, "-")}.json`,
  );
  writeFileSync(file, JSON.stringify({ options: o, results }, null, 2));
  progress(`results in ${file}`);
  const bad = results.filter(failed);
  progress(
    bad.length === 0
      ? "PASS: nothing lost, nothing doubled"
      : `FAIL: ${bad.map((r) => r.job).join(", ")}`,
  );
  return bad.length === 0 ? 0 : 1;
}

if (
  process.argv[1] !== undefined &&
  resolve(process.argv[1]) === fileURLToPath(import.meta.url)
) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
}
