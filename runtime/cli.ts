import type { Logger } from "./log.js";
import { Command, InvalidArgumentError } from "commander";
import {
  logFiles,
  requireServices,
  stackDown,
  stackStatus,
  stackUp,
  StackError,
  type ServiceName,
  type StackEvent,
} from "../stack/index.js";
import { createReadStream, existsSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { progress } from "./progress.js";
import { isJobDefinition } from "./job.js";
import type { AnyJob } from "./job.js";
import { discoverPipelines, type PipelineCatalog } from "./pipelines.js";

/** A registered job name, or a module path (`pipelines/reviews/enrichment`, `./my-job.js`). */
async function loadJob(
  spec: string,
  catalog: PipelineCatalog,
): Promise<AnyJob> {
  let mod: unknown;
  const registered = catalog.jobs.get(spec);
  if (registered !== undefined) mod = await registered();
  else {
    // Relative paths are resolved from the package root first (compiled modules in dist/),
    // then from the working directory.
    const here = new URL(".", import.meta.url);
    const withExt = /\.[cm]?[jt]s$/.test(spec) ? spec : `${spec}.js`;
    const candidates = isAbsolute(withExt)
      ? [pathToFileURL(withExt).href]
      : [
          new URL(`../${withExt}`, here).href,
          pathToFileURL(resolve(withExt)).href,
        ];
    let lastError: unknown;
    for (const c of candidates) {
      try {
        mod = await import(c);
        break;
      } catch (error) {
        lastError = error;
      }
    }
    if (mod === undefined)
      throw new UsageError(
        `no job "${spec}": not a registered job (${[...catalog.jobs.keys()].join(", ")}) and not an importable module (${lastError instanceof Error ? lastError.message : String(lastError)})`,
      );
  }
  const exports = mod as { readonly [name: string]: unknown };
  const job = isJobDefinition(exports["default"])
    ? exports["default"]
    : Object.values(exports).find(isJobDefinition);
  if (job === undefined)
    throw new UsageError(
      `module "${spec}" exports no job: export default defineJob({ ... })`,
    );
  return job;
}

const SERVICES: readonly ServiceName[] = [
  "kafka",
  "cassandra",
  "postgres",
  "memcached",
];

/**
 * The suites of bench/main.ts, named here so `--help` stays cheap (main.ts loads every client);
 * runtime/cli.test.ts fails when the two lists differ.
 */
export const BENCH_SUITES: readonly string[] = [
  "operators",
  "nexmark",
  "reviews",
  "outreach",
  "connectors",
  "nexmark-kafka",
  "peers",
  "pipelines",
  "scaling",
  "eshop",
];

/** Bad input found inside a command's action (commander prints only its own parse errors). */
class UsageError extends Error {}

function positiveInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n <= 0)
      throw new InvalidArgumentError(
        `${name} must be a positive integer, got "${value}"`,
      );
    return n;
  };
}

function positiveNumber(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0)
      throw new InvalidArgumentError(
        `${name} must be a positive number, got "${value}"`,
      );
    return n;
  };
}

function services(list: readonly string[]): ServiceName[] {
  for (const s of list) {
    if (!(SERVICES as readonly string[]).includes(s)) {
      throw new InvalidArgumentError(
        `unknown service "${s}"; known: ${SERVICES.join(", ")}`,
      );
    }
  }
  return list as ServiceName[];
}

function printEvent(e: StackEvent): void {
  process.stderr.write(
    `${e.service.padEnd(10)} ${e.phase.padEnd(9)} ${e.message}\n`,
  );
}

function program(catalog: PipelineCatalog): Command {
  const cli = new Command("sluice")
    .description("Keyed, windowed, idempotent stream jobs in TypeScript.")
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride();

  cli
    .command("demo")
    .description(
      "Run a demo on the embedded in-memory log and stores (no servers needed). `reviews` (the default): the movie-review system end to end. `keyed-count`: a keyed event-time window count over generated events.",
    )
    .argument(
      "[system]",
      ["reviews", "keyed-count", ...catalog.demos.keys()].join(" | "),
      "reviews",
    )
    .option(
      "--reviews <n>",
      "reviews to produce (reviews)",
      positiveInt("--reviews"),
      5_000,
    )
    .option(
      "--movies <n>",
      "movies in the catalogue (reviews)",
      positiveInt("--movies"),
      300,
    )
    .option("--users <n>", "users (reviews)", positiveInt("--users"), 1_000)
    .option(
      "--size <n>",
      `how much work for the other demos (${[...catalog.demos].map(([name, d]) => `${name}: ${d.sizeUnit ?? "records"}`).join(", ") || "none installed"})`,
      positiveInt("--size"),
    )
    .option(
      "--events <n>",
      "generated events (keyed-count)",
      positiveInt("--events"),
      200_000,
    )
    .option(
      "--keys <n>",
      "distinct keys (keyed-count)",
      positiveInt("--keys"),
      1_000,
    )
    .option(
      "--window-ms <n>",
      "tumbling window size in event-time ms (keyed-count)",
      positiveInt("--window-ms"),
      60_000,
    )
    .option(
      "--partitions <n>",
      "partitions of each topic",
      positiveInt("--partitions"),
      4,
    )
    .option(
      "--seed <n>",
      "random seed, so runs repeat",
      positiveInt("--seed"),
      42,
    )
    .option(
      "--stack <where>",
      "run on real services instead of the embedded log: `local` (Kafka, Cassandra, PostgreSQL, memcached of `sluice stack up`; reviews only)",
    )
    .option(
      "--keep <id>",
      "with --stack: use (and keep) the topics, keyspace and schemas named after <id> instead of unique ones dropped at the end",
    )
    .addHelpText(
      "after",
      `\nDemos of the other pipelines:\n${[...catalog.demos].map(([name, d]) => `  ${name.padEnd(14)} ${d.description}`).join("\n") || "  (none)"}\n` +
        "\nExamples:\n  sluice demo\n  sluice demo --stack local --reviews 2000\n  sluice demo reviews --reviews 20000 --users 5000\n  sluice demo keyed-count --events 1000000 --keys 50\n",
    )
    .action(
      async (
        system: string,
        opts: {
          reviews: number;
          movies: number;
          users: number;
          events: number;
          keys: number;
          windowMs: number;
          partitions: number;
          seed: number;
          size?: number;
          stack?: string;
          keep?: string;
        },
      ) => {
        const other = catalog.demos.get(system);
        if (opts.stack !== undefined) {
          if (opts.stack !== "local")
            throw new UsageError(
              `--stack must be "local", got "${opts.stack}"`,
            );
          if (system === "keyed-count")
            throw new UsageError(
              "--stack local does not apply to the keyed-count demo",
            );
          if (opts.keep !== undefined && !/^[a-z0-9_]{1,20}$/.test(opts.keep))
            throw new UsageError(
              `--keep must match [a-z0-9_]{1,20}, got "${opts.keep}"`,
            );
        }
        if (other !== undefined) {
          await other.run({
            seed: opts.seed,
            partitions: opts.partitions,
            ...(opts.size !== undefined ? { size: opts.size } : {}),
            ...(opts.stack !== undefined ? { stack: "local" as const } : {}),
            ...(opts.keep !== undefined ? { keep: opts.keep } : {}),
          });
        } else if (opts.stack !== undefined && system === "reviews") {
          const endpoints = await requireServices([
            "kafka",
            "cassandra",
            "postgres",
            "memcached",
          ]);
          const { runReviewsDemoOnStack } =
            await import("../pipelines/reviews/demo.js");
          await runReviewsDemoOnStack(
            {
              reviews: opts.reviews,
              movies: opts.movies,
              users: opts.users,
              partitions: opts.partitions,
              seed: opts.seed,
              ...(opts.keep !== undefined ? { keep: opts.keep } : {}),
            },
            endpoints,
          );
        } else if (system === "reviews") {
          const { runReviewsDemo } =
            await import("../pipelines/reviews/demo.js");
          await runReviewsDemo({
            reviews: opts.reviews,
            movies: opts.movies,
            users: opts.users,
            partitions: opts.partitions,
            seed: opts.seed,
          });
        } else if (system === "keyed-count") {
          const { runDemo } = await import("../pipelines/demo/keyed-count.js");
          await runDemo({
            events: opts.events,
            keys: opts.keys,
            partitions: opts.partitions,
            windowMs: opts.windowMs,
            seed: opts.seed,
          });
        } else
          throw new UsageError(
            `unknown demo "${system}"; choose ${["reviews", "keyed-count", ...catalog.demos.keys()].join(", ")}`,
          );
      },
    );

  cli
    .command("bench")
    .description(
      "Run a benchmark suite: warm-up, repeated runs, records/s, CPU and memory; prints a Markdown table with ratios to the suite's baseline and writes JSON, Markdown and an SVG chart.",
    )
    .argument(
      "<suite>",
      `suite name: ${BENCH_SUITES.join(" | ")}, or \`list\` to describe each (the stack ones need \`sluice stack up\`)`,
    )
    .option(
      "--runs <n>",
      "measured runs per workload",
      positiveInt("--runs"),
      5,
    )
    .option(
      "--warmup <n>",
      "unmeasured warm-up runs per workload",
      positiveInt("--warmup"),
      2,
    )
    .option(
      "--scale <x>",
      "multiply the suite's record counts (e.g. 0.1 for a quick look)",
      positiveNumber("--scale"),
      1,
    )
    .option("--out <dir>", "where to write results", "bench/results")
    .option(
      "--only <names>",
      "comma-separated parts of a suite that holds several (e.g. q5,q11 of nexmark, or pipelines-eshop); the others are not run",
      (v: string) =>
        v
          .split(",")
          .map((x) => x.trim())
          .filter((x) => x !== ""),
    )
    .addHelpText(
      "after",
      "\nExamples:\n  sluice bench list\n  sluice bench operators --runs 3 --scale 0.5\n  sluice bench nexmark --only q5,q11 --runs 3\n  sluice bench peers --runs 3   # Kafka Streams beside Sluice on the same broker\n",
    )
    .action(
      async (
        suite: string,
        opts: {
          runs: number;
          warmup: number;
          scale: number;
          out: string;
          only?: string[];
        },
      ) => {
        const { runBench, SUITES } = await import("../bench/main.js");
        if (suite === "list") {
          for (const [name, entry] of Object.entries(SUITES))
            console.log(
              `${name.padEnd(14)} ${entry.describe}${entry.requires !== undefined ? ` [needs ${entry.requires.join(", ")}]` : ""}`,
            );
          return;
        }
        const bar = progress("bench runs", 1);
        await runBench(suite, opts, (done, total, label) => {
          bar.setTotal(total);
          bar.update(done, label);
        });
        bar.stop();
      },
    );

  cli
    .command("run")
    .description(
      "Run a job until SIGTERM/SIGINT: loads and validates its config (file, then environment), serves /metrics /healthz /readyz, checkpoints keyed state with source offsets, and on the first signal stops intake, drains, takes a final checkpoint and exits 0 (a second signal exits at once).",
    )
    .argument(
      "<job>",
      `a registered job (${[...catalog.jobs.keys()].join(", ")}) or a module path whose default export is defineJob({...}), e.g. pipelines/reviews/enrichment`,
    )
    .option("--config <file>", "YAML or JSON config file")
    .option(
      "--check-config",
      "only load and validate the config as a start would (file, environment, the job's schema), print the effective config with secrets redacted, and exit: 0 valid, 2 invalid",
    )
    .option(
      "--port <n>",
      "port of /metrics /healthz /readyz (overrides http.port)",
      (v: string) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 0 || n > 65535)
          throw new InvalidArgumentError(
            `--port must be an integer 0-65535, got "${v}"`,
          );
        return n;
      },
    )
    .addHelpText(
      "after",
      `
Example:
  sluice run pipelines/reviews/enrichment --config k3s/enrichment.yaml --port 9464
  SLUICE_JOB__REVIEW_SERVICE__HOST=reviews-service sluice run reviews-enrichment --check-config
  KAFKA_BROKERS=kafka:9092 DATABASE_URL=postgres://... sluice run demo-count

The environment wins over the file: SLUICE_LOG_LEVEL, SLUICE_HTTP_PORT,
SLUICE_SHUTDOWN_TIMEOUT_MS, SLUICE_CHECKPOINT_INTERVAL_MS, SLUICE_CHECKPOINT_STORE
(memory|postgres|cassandra), SLUICE_KAFKA_BROKERS (or KAFKA_BROKERS), SLUICE_POSTGRES_URL
(or DATABASE_URL), SLUICE_CASSANDRA_CONTACT_POINTS (or CASSANDRA_CONTACT_POINTS),
SLUICE_MEMCACHED_SERVERS (or MEMCACHED_SERVERS); SLUICE_JOB__BATCH_SIZE=50 sets
job.batchSize; SLUICE_SECRETS__API_KEY sets secrets.apiKey. Secrets may also be read from a
mounted file: { file: /var/run/secrets/... }. Exit codes: 0 clean, 1 failure, 2 bad config,
130 second signal.`,
    )
    .action(
      async (
        spec: string,
        opts: { config?: string; port?: number; checkConfig?: boolean },
      ) => {
        const job = await loadJob(spec, catalog);
        if (opts.checkConfig === true) {
          const { checkJobConfig } = await import("./check-config.js");
          const check = checkJobConfig(job, {
            ...(opts.config !== undefined ? { configFile: opts.config } : {}),
          });
          if (check.ok)
            console.log(
              JSON.stringify({ job: check.job, config: check.config }, null, 2),
            );
          else
            console.error(
              `sluice: invalid config for ${check.job}:\n  ${check.problems.join("\n  ")}`,
            );
          process.exitCode = check.ok ? 0 : 2;
          return;
        }
        const { runJob } = await import("./lifecycle.js");
        const run = await runJob(job, {
          ...(opts.config !== undefined ? { configFile: opts.config } : {}),
          ...(opts.port !== undefined ? { port: opts.port } : {}),
          handleProcessErrors: true,
        });
        process.exitCode = await run.exited;
        exitWhenLingering(run.logger, process.exitCode);
      },
    );

  const stack = cli
    .command("stack")
    .description(
      "Run the real services used by integration tests, benchmarks and `--stack local`: Kafka (KRaft), Cassandra 5.0, PostgreSQL and memcached on 127.0.0.1.",
    )
    .addHelpText(
      "after",
      `
Services already reachable at KAFKA_BROKERS, CASSANDRA_CONTACT_POINTS, DATABASE_URL or
MEMCACHED_SERVERS (or the default loopback address) are reused, never started twice.
State and logs: $SLUICE_STATE_DIR (default ~/.local/state/sluice); downloads: ~/.m2 and
$SLUICE_CACHE_DIR (default ~/.cache/sluice).`,
    );
  stack
    .command("up")
    .description(
      "Install (first time), start and wait for the services; prints each address.",
    )
    .argument("[services...]", `subset of: ${SERVICES.join(", ")}`)
    .option(
      "--timeout-ms <n>",
      "readiness timeout per service",
      positiveInt("--timeout-ms"),
      300_000,
    )
    .action(async (names: string[], opts: { timeoutMs: number }) => {
      const list = names.length > 0 ? services(names) : SERVICES;
      const started = Date.now();
      const statuses = await stackUp({
        services: list,
        timeoutMs: opts.timeoutMs,
        onEvent: printEvent,
      });
      for (const s of statuses)
        console.log(
          `${s.service.padEnd(10)} ${s.address}${s.managed ? "" : "  (reused)"}`,
        );
      process.stderr.write(
        `stack up in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
      );
    });
  stack
    .command("down")
    .description(
      "Stop the services this stack started (by pid); leaves reused services alone.",
    )
    .action(async () => {
      await stackDown({ onEvent: printEvent });
    });
  stack
    .command("status")
    .description("Show each service's address, health, pid and log file.")
    .action(async () => {
      const statuses = await stackStatus();
      for (const s of statuses) {
        console.log(
          `${s.service.padEnd(10)} ${(s.healthy ? "healthy" : "down").padEnd(8)} ${s.address}${s.pid !== undefined ? `  pid ${s.pid}` : ""}${s.managed ? "" : "  (not ours)"}${s.log !== undefined ? `  log ${s.log}` : ""}${s.detail !== undefined ? `  ${s.detail}` : ""}`,
        );
      }
      if (statuses.some((s) => !s.healthy)) process.exitCode = 1;
    });
  stack
    .command("logs")
    .description("Print the log file of a service (or list the log files).")
    .argument("[service]", `one of: ${SERVICES.join(", ")}`)
    .action(async (name: string | undefined) => {
      const files = logFiles();
      if (name === undefined) {
        for (const f of files) console.log(`${f.service.padEnd(10)} ${f.path}`);
        return;
      }
      const [service] = services([name]);
      const file = files.find((f) => f.service === service);
      if (file === undefined || !existsSync(file.path)) {
        console.error(
          `no log for ${name} yet (${file?.path ?? "unknown path"}); has \`sluice stack up\` run?`,
        );
        process.exitCode = 1;
        return;
      }
      await new Promise<void>((resolve, reject) => {
        createReadStream(file.path)
          .on("error", reject)
          .on("end", resolve)
          .pipe(process.stdout, { end: false });
      });
    });

  // --- dashboards (Superset; dashboards/, stack/superset.ts, runtime/dashboard-page.ts) ---
  const dashboards = cli
    .command("dashboards")
    .description(
      "Apache Superset with Sluice's dashboards as code: `up` installs Superset 6.1.0 from PyPI into a venv (first time), starts it on 127.0.0.1:8088 and imports the Recommendations and Pipelines dashboards; `serve` serves the embedded Recommendations page.",
    )
    .addHelpText(
      "after",
      `
The dashboards (dashboards/assets/*.yaml, Superset's import format) read PostgreSQL at
DATABASE_URL: the reviews recommendation job's tables in --analytics-schema and the
runtime's job_stats in --stats-schema. The password is passed at import time, never stored
in the YAML. Venv and pip cache: $SLUICE_CACHE_DIR/superset (default ~/.cache/sluice);
config, SQLite metadata, generated secrets and the admin password: $SLUICE_STATE_DIR/superset
(default ~/.local/state/sluice); log: $SLUICE_STATE_DIR/logs/superset.log.
Environment: SUPERSET_URL, SUPERSET_ADMIN_USER, SUPERSET_ADMIN_PASSWORD, SUPERSET_SECRET_KEY,
SUPERSET_GUEST_SECRET, SUPERSET_PYTHON (default python3.11).

Example:
  sluice stack up postgres
  sluice demo reviews --stack local --keep demo      # writes analytics_demo.*
  sluice dashboards up --analytics-schema analytics_demo
  sluice dashboards serve --port 8090                # http://127.0.0.1:8090/dashboards/recommendations`,
    );
  const schemaOption = (v: string): string => {
    if (!/^[a-z_][a-z0-9_]*$/.test(v))
      throw new InvalidArgumentError(
        `must be a plain schema name [a-z_][a-z0-9_]*, got "${v}"`,
      );
    return v;
  };
  const addSchemaOptions = (c: Command): Command =>
    c
      .option(
        "--analytics-schema <name>",
        "schema of the reviews analytics tables (the recommendation job's analyticsSchema)",
        schemaOption,
        "analytics",
      )
      .option(
        "--stats-schema <name>",
        "schema of the runtime's job_stats (the jobs' postgres.schema)",
        schemaOption,
        "sluice",
      );
  const dashboardProgress = (step: string, message: string): void => {
    process.stderr.write(`superset   ${step.padEnd(13)} ${message}\n`);
  };
  const runImport = async (opts: {
    analyticsSchema: string;
    statsSchema: string;
  }): Promise<void> => {
    const { SupersetClient, supersetSettings } =
      await import("../stack/superset.js");
    const { endpoints } = await import("../stack/index.js");
    const { importDashboards } = await import("../dashboards/import.js");
    dashboardProgress(
      "import",
      `dashboards/assets (analytics schema ${opts.analyticsSchema}, stats schema ${opts.statsSchema})`,
    );
    const api = new SupersetClient(await supersetSettings());
    const r = await importDashboards(api, {
      databaseUrl: endpoints().databaseUrl,
      analyticsSchema: opts.analyticsSchema,
      statsSchema: opts.statsSchema,
    });
    for (const d of r.dashboards)
      console.log(`${d.title.padEnd(16)} ${d.url}  (${d.charts} charts)`);
    console.log(`embedded uuid    ${r.embeddedUuid} (Recommendations)`);
    console.log(
      `login            ${api.settings.url}/login/ as ${api.settings.username} (password: SUPERSET_ADMIN_PASSWORD or ~/.local/state/sluice/superset/admin-password)`,
    );
  };
  /** A failed step is printed with its log; anything else goes to `main`'s handler. */
  const supersetFailed = async (error: unknown): Promise<void> => {
    const { SupersetError, SupersetApiError } =
      await import("../stack/superset.js");
    if (error instanceof SupersetError || error instanceof SupersetApiError) {
      console.error(`sluice: ${error.message}`);
      process.exitCode = 1;
      return;
    }
    throw error;
  };
  addSchemaOptions(
    dashboards
      .command("up")
      .description(
        "Install (first time, ~3-10 min: ~800 MB of Python packages), configure, bootstrap and start Superset, import the dashboards, enable embedding on Recommendations and print the URLs. Idempotent: a second run checks and re-imports in seconds.",
      )
      .option(
        "--timeout-ms <n>",
        "how long Superset may take to answer /health",
        positiveInt("--timeout-ms"),
        180_000,
      ),
  ).action(
    async (opts: {
      analyticsSchema: string;
      statsSchema: string;
      timeoutMs: number;
    }) => {
      const started = Date.now();
      const { supersetUp } = await import("../stack/superset.js");
      try {
        const up = await supersetUp({
          onProgress: dashboardProgress,
          startTimeoutMs: opts.timeoutMs,
        });
        dashboardProgress(
          "ready",
          `${up.url}${up.reused ? " (reused)" : ""}; log ${up.log}`,
        );
        await runImport(opts);
      } catch (error) {
        await supersetFailed(error);
        return;
      }
      process.stderr.write(
        `dashboards up in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
      );
    },
  );
  addSchemaOptions(
    dashboards
      .command("import")
      .description(
        "Import (overwrite) the dashboards into the running Superset; objects keep their UUIDs, so nothing is duplicated.",
      ),
  ).action(async (opts: { analyticsSchema: string; statsSchema: string }) => {
    try {
      await runImport(opts);
    } catch (error) {
      await supersetFailed(error);
    }
  });
  dashboards
    .command("status")
    .description("Show whether Superset answers, its pid, log and dashboards.")
    .action(async () => {
      const { SupersetClient, supersetSettings, supersetStatus } =
        await import("../stack/superset.js");
      const s = await supersetStatus();
      console.log(
        `superset   ${(s.healthy ? "healthy" : "down").padEnd(8)} ${s.url}${s.pid !== undefined ? `  pid ${s.pid}` : ""}${s.installed ? "" : "  (not installed)"}  log ${s.log}`,
      );
      if (!s.healthy) {
        process.exitCode = 1;
        return;
      }
      const api = new SupersetClient(await supersetSettings());
      for (const slug of ["recommendations", "pipelines"]) {
        const r = await api.request("GET", `/api/v1/dashboard/${slug}`);
        console.log(
          `${slug.padEnd(16)} ${r.ok ? `${s.url}/superset/dashboard/${slug}/` : "not imported (run `sluice dashboards import`)"}`,
        );
        if (!r.ok) process.exitCode = 1;
      }
    });
  dashboards
    .command("down")
    .description("Stop the Superset this command started (by pid).")
    .action(async () => {
      const { supersetDown } = await import("../stack/superset.js");
      const pid = await supersetDown();
      dashboardProgress(
        "stopped",
        pid === undefined ? "nothing of ours was running" : `pid ${pid}`,
      );
    });
  dashboards
    .command("serve")
    .description(
      "Serve the embedded Recommendations page (GET /dashboards/recommendations) on the runtime's HTTP server; the guest token is fetched server-side.",
    )
    .option("--port <n>", "port to listen on", positiveInt("--port"), 8090)
    .option("--host <host>", "address to bind", "127.0.0.1")
    .action(async (opts: { port: number; host: string }) => {
      const { SupersetClient, requireSuperset } =
        await import("../stack/superset.js");
      const { dashboardPageRoute } = await import("./dashboard-page.js");
      const { startHttpServer } = await import("./http.js");
      const { Registry } = await import("prom-client");
      const api = new SupersetClient(await requireSuperset());
      const http = await startHttpServer({
        port: opts.port,
        host: opts.host,
        registry: new Registry(),
        readiness: () => ({ ready: true }),
        routes: [dashboardPageRoute({ superset: api })],
      });
      console.log(
        `http://${opts.host}:${http.port}/dashboards/recommendations  (Ctrl-C stops)`,
      );
      await new Promise<void>((resolve) => {
        process.once("SIGINT", resolve);
        process.once("SIGTERM", resolve);
      });
      await http.close();
    });
  return cli;
}

/** How long a job's process may live on after it logged `stopped`. */
const EXIT_GRACE_MS = 5_000;

/**
 * A process that says it stopped must exit. Every client is closed with a deadline, but one
 * that missed it (a driver still reconnecting, a socket a library keeps) would keep Node
 * alive for minutes with nothing left to do: past {@link EXIT_GRACE_MS} the process logs
 * what is still open and exits with the job's code. The timer is unref'd: a clean exit
 * never waits for it.
 */
function exitWhenLingering(logger: Logger, code: number): void {
  setTimeout(() => {
    logger.error("still alive after stopped: exiting", {
      graceMs: EXIT_GRACE_MS,
      open: process.getActiveResourcesInfo(),
    });
    process.exit(code);
  }, EXIT_GRACE_MS).unref();
}

/** Runs the `sluice` command line; resolves to the process exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  try {
    const cli = program(await discoverPipelines());
    await cli.parseAsync([...argv], { from: "user" });
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`sluice: ${error.message}\n(run with --help for usage)`);
      return 2;
    }
    if (error instanceof StackError) {
      console.error(
        `sluice: ${error.service}: ${error.message}${error.logPath !== undefined ? `\n  log: ${error.logPath}` : ""}`,
      );
      return 1;
    }
    if (
      typeof error === "object" &&
      error !== null &&
      "exitCode" in error &&
      typeof error.exitCode === "number"
    ) {
      // commander already printed help or the usage error.
      return error.exitCode;
    }
    console.error(
      `sluice: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
    return 1;
  }
}
