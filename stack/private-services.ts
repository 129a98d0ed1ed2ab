/**
 * Private, restartable copies of the stack's services for fault tests (a PostgreSQL, memcached
 * or Kafka restart): each runs on free loopback ports with its state in a temp dir, so a test
 * may stop, kill and restart it without touching the shared stack (RULES: never restart those).
 *
 * API (every wait is deadline-bound and says what it waits on):
 *
 * ```ts
 * const pg = await privatePostgres();   // pg.url: postgres://sluice@127.0.0.1:<port>/postgres (trust auth)
 * const mc = await privateMemcached();  // mc.server: "127.0.0.1:<port>"
 * const kafka = await privateKafka();   // kafka.brokers: ["127.0.0.1:<port>"] (KRaft, one node)
 * await pg.restart();                   // graceful stop (pg: `pg_ctl stop -m fast`, clients see
 *                                       // 57P01 "terminating connection due to administrator
 *                                       // command"), then start; resolves once it answers again
 * await kafka.stop(); await kafka.start(); // a longer outage, or `restart({ downMs: 3000 })`
 * await kafka.kill();                   // SIGKILL (no graceful shutdown); start() brings it back
 * await pg.dispose();                   // stops for good and removes the state dir (idempotent)
 * ```
 *
 * Every {@link PrivateService} has `name`, `port`, `running`, `start()`, `stop()`, `kill()`,
 * `restart({ downMs })` and `dispose()`. Processes still running when the test process exits
 * are killed (SIGKILL) by an exit hook. Needs what `stack up` installs: PostgreSQL's server
 * binaries (/usr/lib/postgresql/<v>/bin; run as the `postgres` user when we are root),
 * `memcached`, Java 17 and Kafka's jars from the Maven cache (stack/kafka/pom.xml).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  chownSync,
  closeSync,
  existsSync,
  openSync,
  readdirSync,
  readFileSync,
} from "node:fs";
import { appendFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { StackError } from "./errors.js";
import { assetsDir } from "./paths.js";
import { probeKafka, probeMemcached, probePostgres } from "./probes.js";
import { run, which } from "./process.js";
import { ensureJava, mavenClasspath } from "./tooling.js";

/** One private service instance. */
export interface PrivateService {
  readonly name: "postgres" | "memcached" | "kafka";
  /** The client port. */
  readonly port: number;
  /** True between a successful `start()` and `stop()`/`kill()`. */
  readonly running: boolean;
  /** The state dir (data, config, log). */
  readonly dir: string;
  /** Starts it (same ports, same data) and resolves once it answers; no-op when running. */
  start(): Promise<void>;
  /** Stops it gracefully and waits for the process to exit; no-op when stopped. */
  stop(): Promise<void>;
  /** SIGKILLs it (PostgreSQL: `-m immediate`) and waits for the exit. */
  kill(): Promise<void>;
  /** `stop()`, then `downMs` (default 0) of downtime, then `start()`. */
  restart(options?: { readonly downMs?: number }): Promise<void>;
  /** Stops it for good and removes its state dir; idempotent. */
  dispose(): Promise<void>;
}

export interface PrivatePostgres extends PrivateService {
  readonly name: "postgres";
  /** `postgres://sluice@127.0.0.1:<port>/postgres`, superuser, trust auth. */
  readonly url: string;
}

export interface PrivateMemcached extends PrivateService {
  readonly name: "memcached";
  /** `127.0.0.1:<port>`. */
  readonly server: string;
}

export interface PrivateKafka extends PrivateService {
  readonly name: "kafka";
  /** `["127.0.0.1:<port>"]`. */
  readonly brokers: readonly string[];
}

/** Default wait for a (re)started service to answer. */
const START_DEADLINE_MS = 60_000;
const STOP_DEADLINE_MS = 20_000;

const live = new Set<() => void>();
let hooked = false;
function onExitKill(kill: () => void): () => void {
  if (!hooked) {
    hooked = true;
    process.once("exit", () => {
      for (const k of live) k();
    });
  }
  live.add(kill);
  return () => live.delete(kill);
}

/** A free loopback TCP port (the kernel picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitUntil(
  service: PrivateService["name"],
  what: string,
  deadlineMs: number,
  probe: () => Promise<unknown>,
  log: string,
): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  let last: unknown;
  for (;;) {
    try {
      await probe();
      return;
    } catch (error) {
      last = error;
    }
    if (Date.now() >= deadline) {
      const reason = last instanceof Error ? last.message : String(last);
      throw new StackError(
        service,
        `private service: ${what} did not answer within ${deadlineMs} ms (last: ${reason})`,
        log,
      );
    }
    await sleep(200);
  }
}

/** Waits for a child to exit, SIGKILLing it after `ms`. */
async function exitOf(child: ChildProcess, ms: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) =>
    child.once("exit", () => resolve()),
  );
  const timer = setTimeout(() => child.kill("SIGKILL"), ms);
  await exited;
  clearTimeout(timer);
}

const isRoot = (): boolean => process.getuid?.() === 0;

/** Runs a PostgreSQL binary, as the `postgres` user when we are root (initdb refuses root). */
async function pgRun(
  bin: string,
  args: readonly string[],
): Promise<{ code: number | null; out: string }> {
  const r = isRoot()
    ? await run("runuser", ["-u", "postgres", "--", bin, ...args])
    : await run(bin, args);
  return { code: r.code, out: r.stdout + r.stderr };
}

function postgresBin(): string {
  const base = "/usr/lib/postgresql";
  const versions = existsSync(base)
    ? readdirSync(base)
        .filter((v) => existsSync(join(base, v, "bin", "initdb")))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions[0] === undefined)
    throw new StackError(
      "postgres",
      `private postgres: no initdb under ${base}/<version>/bin (run \`node bin/sluice.mjs stack up\`, which installs PostgreSQL)`,
    );
  return join(base, versions[0], "bin");
}

/**
 * A private PostgreSQL: `initdb` in a temp dir, `pg_ctl` on a free port, superuser `sluice`
 * with trust auth on loopback, fsync off.
 */
export async function privatePostgres(): Promise<PrivatePostgres> {
  const bin = postgresBin();
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), "sluice-private-pg-"));
  const data = join(dir, "data");
  const log = join(dir, "postgres.log");
  if (isRoot())
    chownSync(
      dir,
      Number(await uidOf("postgres")),
      Number(await gidOf("postgres")),
    );
  const init = await pgRun(join(bin, "initdb"), [
    "-D",
    data,
    "-U",
    "sluice",
    "-A",
    "trust",
    "--no-sync",
    "-E",
    "UTF8",
  ]);
  if (init.code !== 0)
    throw new StackError(
      "postgres",
      `private postgres: initdb failed: ${init.out.slice(-2000)}`,
    );
  const url = `postgres://sluice@127.0.0.1:${port}/postgres`;
  let running = false;
  let disposed = false;
  const pidOf = (): number | undefined => {
    try {
      const pid = Number(
        readFileSync(join(data, "postmaster.pid"), "utf8").split("\n")[0],
      );
      return Number.isInteger(pid) && pid > 0 ? pid : undefined;
    } catch {
      return undefined;
    }
  };
  const unhook = onExitKill(() => {
    const pid = pidOf();
    if (pid !== undefined) {
      try {
        process.kill(pid, "SIGQUIT"); // immediate shutdown
      } catch {
        // gone already
      }
    }
  });
  const ctl = async (args: readonly string[]): Promise<void> => {
    const r = await pgRun(join(bin, "pg_ctl"), [
      "-D",
      data,
      "-l",
      log,
      ...args,
    ]);
    if (r.code !== 0)
      throw new StackError(
        "postgres",
        `private postgres: pg_ctl ${args.join(" ")} failed: ${r.out.slice(-2000)}`,
        log,
      );
  };
  const service: PrivatePostgres = {
    name: "postgres",
    port,
    url,
    dir,
    get running() {
      return running;
    },
    async start() {
      if (running) return;
      await ctl([
        "-w",
        "-t",
        String(START_DEADLINE_MS / 1000),
        "-o",
        `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${dir} -c fsync=off -c max_connections=50`,
        "start",
      ]);
      running = true;
      await waitUntil(
        "postgres",
        "postgres select 1",
        START_DEADLINE_MS,
        () => probePostgres(url, 2000),
        log,
      );
    },
    async stop() {
      if (!running) return;
      running = false;
      await ctl([
        "-w",
        "-t",
        String(STOP_DEADLINE_MS / 1000),
        "-m",
        "fast",
        "stop",
      ]);
    },
    async kill() {
      if (!running) return;
      running = false;
      await ctl(["-w", "-m", "immediate", "stop"]);
    },
    async restart(options = {}) {
      await service.stop();
      if ((options.downMs ?? 0) > 0) await sleep(options.downMs);
      await service.start();
    },
    async dispose() {
      if (disposed) return;
      disposed = true;
      await service.kill().catch(() => undefined);
      unhook();
      await rm(dir, { recursive: true, force: true });
    },
  };
  await service.start();
  return service;
}

async function uidOf(user: string): Promise<string> {
  return (await run("id", ["-u", user])).stdout.trim();
}
async function gidOf(user: string): Promise<string> {
  return (await run("id", ["-g", user])).stdout.trim();
}

/** A service that is one child process we spawn (memcached, Kafka). */
function childService<N extends "memcached" | "kafka">(o: {
  readonly name: N;
  readonly port: number;
  readonly dir: string;
  readonly log: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly probe: () => Promise<unknown>;
  readonly what: string;
}): PrivateService & { readonly name: N } {
  let child: ChildProcess | undefined;
  let disposed = false;
  const unhook = onExitKill(() => child?.kill("SIGKILL"));
  const halt = async (signal: NodeJS.Signals): Promise<void> => {
    const c = child;
    if (c === undefined) return;
    child = undefined;
    c.kill(signal);
    await exitOf(c, STOP_DEADLINE_MS);
  };
  const service = {
    name: o.name,
    port: o.port,
    dir: o.dir,
    get running() {
      return child !== undefined;
    },
    async start() {
      if (child !== undefined) return;
      const out = openSync(o.log, "a");
      const c = spawn(o.command, o.args, {
        cwd: o.dir,
        stdio: ["ignore", out, out],
      });
      closeSync(out);
      child = c;
      c.once("exit", () => {
        if (child === c) child = undefined;
      });
      await waitUntil(
        o.name,
        o.what,
        START_DEADLINE_MS,
        async () => {
          if (child !== c)
            throw new Error(`${o.name} exited at start (see ${o.log})`);
          await o.probe();
        },
        o.log,
      );
    },
    stop: () => halt("SIGTERM"),
    kill: () => halt("SIGKILL"),
    async restart(options: { readonly downMs?: number } = {}) {
      await service.stop();
      if ((options.downMs ?? 0) > 0) await sleep(options.downMs);
      await service.start();
    },
    async dispose() {
      if (disposed) return;
      disposed = true;
      await service.kill();
      unhook();
      await rm(o.dir, { recursive: true, force: true });
    },
  };
  return service;
}

/** A private memcached (16 MB) on a free port. */
export async function privateMemcached(): Promise<PrivateMemcached> {
  const bin = await which("memcached");
  if (bin === undefined)
    throw new StackError(
      "memcached",
      "private memcached: no memcached binary (run `node bin/sluice.mjs stack up`, which installs it)",
    );
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), "sluice-private-memcached-"));
  const server = `127.0.0.1:${port}`;
  const base = childService({
    name: "memcached",
    port,
    dir,
    log: join(dir, "memcached.log"),
    command: bin,
    args: [
      ...(isRoot() ? ["-u", "root"] : []),
      "-l",
      "127.0.0.1",
      "-p",
      String(port),
      "-m",
      "16",
    ],
    probe: () => probeMemcached([server], 1000),
    what: `memcached ${server}`,
  });
  const service = Object.assign(base, { server });
  await service.start();
  return service;
}

/**
 * A private one-node Kafka (KRaft, broker + controller) from the same jars and config template
 * as the stack's, on two free ports, 256 MB heap.
 */
export async function privateKafka(): Promise<PrivateKafka> {
  const noEvents = (): void => undefined;
  const java = await ensureJava("kafka", noEvents);
  const classpath = await mavenClasspath("kafka", noEvents);
  const port = await freePort();
  const controller = await freePort();
  const dir = await mkdtemp(join(tmpdir(), "sluice-private-kafka-"));
  const log = join(dir, "kafka.log");
  const props = join(dir, "server.properties");
  const template = await readFile(
    join(assetsDir(), "kafka", "server.properties"),
    "utf8",
  );
  await writeFile(
    props,
    template
      .split("{{DATA_DIR}}")
      .join(join(dir, "data"))
      .replaceAll("127.0.0.1:9093", `127.0.0.1:${controller}`)
      .replaceAll("127.0.0.1:9092", `127.0.0.1:${port}`),
  );
  const logConfig = `-Dlog4j2.configurationFile=file:${join(assetsDir(), "kafka", "log4j2.properties")}`;
  const format = await run(java, [
    logConfig,
    "-cp",
    classpath,
    "kafka.tools.StorageTool",
    "format",
    "-t",
    clusterId(),
    "-c",
    props,
    "--ignore-formatted",
  ]);
  await appendFile(log, format.stdout + format.stderr);
  if (format.code !== 0)
    throw new StackError(
      "kafka",
      `private kafka: storage format failed (exit ${String(format.code)})`,
      log,
    );
  const brokers = [`127.0.0.1:${port}`];
  const base = childService({
    name: "kafka",
    port,
    dir,
    log,
    command: java,
    args: [
      "-Xms256m",
      "-Xmx256m",
      "-XX:+UseG1GC",
      "-XX:TieredStopAtLevel=1",
      "-Djava.awt.headless=true",
      `-Dkafka.logs.dir=${join(dir, "logs")}`,
      logConfig,
      "-cp",
      classpath,
      "kafka.Kafka",
      props,
    ],
    probe: () => probeKafka(brokers, 2000),
    what: `kafka ${brokers[0]!}`,
  });
  const service = Object.assign(base, { brokers });
  await service.start();
  return service;
}

/** 16 random bytes, base64url, not starting with "-" (Kafka's cluster-id rule). */
function clusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString("base64url");
    if (!id.startsWith("-")) return id;
  }
}
