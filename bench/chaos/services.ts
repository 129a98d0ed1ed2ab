// Private Kafka, PostgreSQL, memcached and Cassandra for the chaos suite: its faults restart
// services, so it never touches the shared stack on the default ports. Each service runs on
// `portBase + offset` with its data under `<stateDir>/<service>/`, from the same jars
// (stack/*/pom.xml via ~/.m2) and Debian binaries as `sluice stack up`.
import { spawn } from "node:child_process";
import {
  chownSync,
  closeSync,
  existsSync,
  openSync,
  readdirSync,
  readFileSync,
} from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { run } from "../../stack/process.js";
import { JPMS_FLAGS } from "../../stack/services/cassandra.js";
import { renderTemplate } from "../../stack/services/driver.js";
import { assetsDir } from "../../stack/paths.js";
import { probeCassandra, probeKafka } from "../../stack/probes.js";
import { ensureJava, jarOf, mavenClasspath } from "../../stack/tooling.js";
import type { StackEvent } from "../../stack/types.js";

/** The services the suite runs privately and can restart. */
export type ChaosService = "kafka" | "postgres" | "memcached" | "cassandra";

/** Where the private services listen. */
export interface PrivatePorts {
  readonly kafka: number;
  readonly controller: number;
  readonly postgres: number;
  readonly memcached: number;
  readonly cassandra: number;
  readonly cassandraStorage: number;
}

/** Ports from a base: kafka base+92, controller +93, postgres +32, memcached +11, cassandra +42, storage +70. */
export function portsFrom(base: number): PrivatePorts {
  return {
    kafka: base + 92,
    controller: base + 93,
    postgres: base + 32,
    memcached: base + 11,
    cassandra: base + 42,
    cassandraStorage: base + 70,
  };
}

/** The connection settings a `sluice run` process gets for the private services. */
export interface PrivateEndpoints {
  readonly kafkaBrokers: string;
  readonly databaseUrl: string;
  readonly memcachedServers: string;
  readonly cassandraContactPoints: string;
}

function pgBin(): string {
  const versions = existsSync("/usr/lib/postgresql")
    ? readdirSync("/usr/lib/postgresql").filter((v) => /^\d+$/.test(v))
    : [];
  const v = versions.sort((a, b) => Number(b) - Number(a))[0];
  if (v === undefined)
    throw new Error(
      "no PostgreSQL binaries under /usr/lib/postgresql (apt-get install postgresql, or run `sluice stack up` once)",
    );
  return `/usr/lib/postgresql/${v}/bin`;
}

/** Resolves once `host:port` accepts a TCP connection, or throws after `timeoutMs` naming `what`. */
export async function waitForPort(
  what: string,
  port: number,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host: "127.0.0.1", port });
      s.once("connect", () => {
        s.destroy();
        resolve(true);
      });
      s.once("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() >= deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what} to accept connections on 127.0.0.1:${port}`,
      );
    await sleep(250);
  }
}

/** Polls `probe` until it resolves, or throws after `timeoutMs` naming `what` and the last error. */
async function waitProbe(
  what: string,
  probe: () => Promise<unknown>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      await probe();
      return;
    } catch (e) {
      last = e;
    }
    if (Date.now() >= deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}: ${String(last)}`,
      );
    await sleep(500);
  }
}

interface Daemon {
  pid: number;
  exited: Promise<void>;
}

function spawnLogged(
  command: string,
  args: readonly string[],
  log: string,
  cwd?: string,
): Daemon {
  const fd = openSync(log, "a");
  try {
    const child = spawn(command, args, {
      cwd,
      detached: true,
      stdio: ["ignore", fd, fd],
    });
    if (child.pid === undefined) throw new Error(`${command}: no pid`);
    const exited = new Promise<void>((resolve) =>
      child.once("exit", () => resolve()),
    );
    child.unref();
    return { pid: child.pid, exited };
  } finally {
    closeSync(fd);
  }
}

async function stopDaemon(
  d: Daemon | undefined,
  what: string,
  graceMs: number,
): Promise<void> {
  if (d === undefined) return;
  try {
    process.kill(d.pid, "SIGTERM");
  } catch {
    return;
  }
  const gone = await Promise.race([
    d.exited.then(() => true),
    sleep(graceMs).then(() => false),
  ]);
  if (!gone) {
    try {
      process.kill(d.pid, "SIGKILL");
    } catch {
      // already gone
    }
    await Promise.race([
      d.exited,
      sleep(10_000).then(() => {
        throw new Error(`${what} (pid ${d.pid}) did not exit after SIGKILL`);
      }),
    ]);
  }
}

/**
 * The suite's own services. `start()` starts all four (fresh state), `restart(s)` stops one and
 * starts it again on the same data, `stopAll()` stops what it started (by pid, never by name).
 */
export class PrivateServices {
  readonly ports: PrivatePorts;
  readonly stateDir: string;
  private kafkaD: Daemon | undefined;
  private memcachedD: Daemon | undefined;
  private cassandraD: Daemon | undefined;
  private pgStarted = false;
  private readonly progress: (line: string) => void;

  constructor(
    stateDir: string,
    portBase: number,
    progress: (line: string) => void,
  ) {
    this.stateDir = stateDir;
    this.ports = portsFrom(portBase);
    this.progress = progress;
  }

  get endpoints(): PrivateEndpoints {
    return {
      kafkaBrokers: `127.0.0.1:${this.ports.kafka}`,
      databaseUrl: `postgres://sluice:sluice@127.0.0.1:${this.ports.postgres}/sluice`,
      memcachedServers: `127.0.0.1:${this.ports.memcached}`,
      cassandraContactPoints: `127.0.0.1:${this.ports.cassandra}`,
    };
  }

  private dir(s: ChaosService): string {
    // PostgreSQL runs as the postgres user, which cannot enter /root: its cluster lives in
    // the temp dir, one per port.
    return s === "postgres"
      ? join(tmpdir(), `sluice-chaos-postgres-${this.ports.postgres}`)
      : join(this.stateDir, s);
  }

  log(s: ChaosService): string {
    return s === "postgres"
      ? join(this.dir("postgres"), "postgres.log")
      : join(this.stateDir, "logs", `${s}.log`);
  }

  /** Wipes the state dir and starts every service the jobs need. */
  async start(services: readonly ChaosService[]): Promise<void> {
    await this.assertPortsFree();
    await rm(this.stateDir, { recursive: true, force: true });
    await rm(this.dir("postgres"), { recursive: true, force: true });
    await mkdir(join(this.stateDir, "logs"), { recursive: true });
    // Sequential: two JVMs starting at once on two busy cores double each start time.
    for (const s of services) await this.startOne(s);
  }

  private async assertPortsFree(): Promise<void> {
    for (const [name, port] of Object.entries(this.ports)) {
      const busy = await new Promise<boolean>((resolve) => {
        const s = connect({ host: "127.0.0.1", port: port as number });
        s.once("connect", () => {
          s.destroy();
          resolve(true);
        });
        s.once("error", () => resolve(false));
      });
      if (busy)
        throw new Error(
          `port ${String(port)} (${name}) is already in use: another chaos run, or pick --port-base`,
        );
    }
  }

  async startOne(s: ChaosService): Promise<void> {
    const t0 = Date.now();
    if (s === "kafka") await this.startKafka();
    else if (s === "postgres") await this.startPostgres();
    else if (s === "memcached") await this.startMemcached();
    else await this.startCassandra();
    this.progress(
      `${s} ready on 127.0.0.1:${this.portOf(s)} in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
    );
  }

  portOf(s: ChaosService): number {
    return s === "kafka"
      ? this.ports.kafka
      : s === "postgres"
        ? this.ports.postgres
        : s === "memcached"
          ? this.ports.memcached
          : this.ports.cassandra;
  }

  async stopOne(s: ChaosService, crash = false): Promise<void> {
    if (s === "kafka") {
      await stopDaemon(this.kafkaD, "kafka", 30_000);
      this.kafkaD = undefined;
    } else if (s === "memcached") {
      await stopDaemon(this.memcachedD, "memcached", 5_000);
      this.memcachedD = undefined;
    } else if (s === "cassandra") {
      await stopDaemon(this.cassandraD, "cassandra", 60_000);
      this.cassandraD = undefined;
    } else if (this.pgStarted) {
      await this.pgCtl([
        "stop",
        "-m",
        crash ? "immediate" : "fast",
        "-w",
        "-t",
        "60",
      ]);
      this.pgStarted = false;
    }
  }

  /** Stops `s`, leaves it down for `downMs`, starts it again on the same data. */
  async restart(s: ChaosService, downMs: number): Promise<void> {
    await this.stopOne(s, true);
    await sleep(downMs);
    await this.startOne(s);
  }

  async stopAll(): Promise<void> {
    for (const s of ["cassandra", "kafka", "postgres", "memcached"] as const) {
      try {
        await this.stopOne(s);
      } catch (e) {
        this.progress(`stopping ${s} failed: ${String(e)}`);
      }
    }
  }

  private async startMemcached(): Promise<void> {
    this.memcachedD = spawnLogged(
      "memcached",
      [
        "-u",
        "root",
        "-l",
        "127.0.0.1",
        "-p",
        String(this.ports.memcached),
        "-m",
        "64",
      ],
      this.log("memcached"),
    );
    await waitForPort("memcached", this.ports.memcached, 20_000);
  }

  private async startKafka(): Promise<void> {
    const emit = (e: StackEvent) => this.progress(`kafka: ${e.message}`);
    const java = await ensureJava("kafka", emit);
    const classpath = await mavenClasspath("kafka", emit);
    const dir = this.dir("kafka");
    const dataDir = join(dir, "data");
    await mkdir(dataDir, { recursive: true });
    const props = join(dir, "server.properties");
    await renderTemplate(
      join(assetsDir(), "kafka", "server.properties"),
      props,
      {
        DATA_DIR: dataDir,
      },
    );
    const text = readFileSync(props, "utf8")
      .replaceAll("127.0.0.1:9092", `127.0.0.1:${this.ports.kafka}`)
      .replaceAll("127.0.0.1:9093", `127.0.0.1:${this.ports.controller}`);
    await writeFile(props, text);
    const logConfig = `-Dlog4j2.configurationFile=file:${join(assetsDir(), "kafka", "log4j2.properties")}`;
    // Formatting is a JVM start of its own: only on fresh state, not on every restart.
    const format = existsSync(join(dataDir, "meta.properties"))
      ? { code: 0, stdout: "", stderr: "" }
      : await run(java, [
          logConfig,
          "-cp",
          classpath,
          "kafka.tools.StorageTool",
          "format",
          "-t",
          "c2x1Y2VjaGFvc3N1aXRlMQ",
          "-c",
          props,
          "--ignore-formatted",
        ]);
    if (format.code !== 0)
      throw new Error(
        `kafka storage format failed: ${format.stdout}${format.stderr}`,
      );
    this.kafkaD = spawnLogged(
      java,
      [
        "-Xms384m",
        "-Xmx384m",
        "-XX:+UseG1GC",
        "-XX:+ExitOnOutOfMemoryError",
        "-Djava.awt.headless=true",
        `-Dkafka.logs.dir=${join(dir, "logs")}`,
        logConfig,
        "-cp",
        classpath,
        "kafka.Kafka",
        props,
      ],
      this.log("kafka"),
      dir,
    );
    await waitProbe(
      `the private Kafka broker on 127.0.0.1:${this.ports.kafka} to answer a metadata request`,
      () => probeKafka([`127.0.0.1:${this.ports.kafka}`], 5_000),
      120_000,
    );
  }

  private async startCassandra(): Promise<void> {
    const emit = (e: StackEvent) => this.progress(`cassandra: ${e.message}`);
    const java = await ensureJava("cassandra", emit);
    const classpath = await mavenClasspath("cassandra", emit);
    const jamm = jarOf(classpath, "jamm-");
    if (jamm === undefined)
      throw new Error("jamm jar not on Cassandra's resolved classpath");
    const dir = this.dir("cassandra");
    const dataDir = join(dir, "data");
    for (const sub of ["data", "commitlog", "cdc_raw", "saved_caches", "hints"])
      await mkdir(join(dataDir, sub), { recursive: true });
    await mkdir(join(dir, "logs"), { recursive: true });
    const yaml = join(dir, "cassandra.yaml");
    await renderTemplate(
      join(assetsDir(), "cassandra", "cassandra.yaml"),
      yaml,
      {
        DATA_DIR: dataDir,
      },
    );
    const text = readFileSync(yaml, "utf8")
      .replace(
        /^native_transport_port: \d+$/m,
        `native_transport_port: ${this.ports.cassandra}`,
      )
      .replace(
        /^storage_port: \d+$/m,
        `storage_port: ${this.ports.cassandraStorage}`,
      )
      .replace("127.0.0.1:7000", `127.0.0.1:${this.ports.cassandraStorage}`)
      .replace(/^cluster_name: .*$/m, 'cluster_name: "Sluice Chaos"');
    await writeFile(yaml, text);
    this.cassandraD = spawnLogged(
      java,
      [
        "-Xms512M",
        "-Xmx512M",
        "-Xss256k",
        "-XX:+UseG1GC",
        "-XX:+ExitOnOutOfMemoryError",
        "-Djava.net.preferIPv4Stack=true",
        `-javaagent:${jamm}`,
        ...JPMS_FLAGS,
        `-Dcassandra.config=file://${yaml}`,
        "-Dcassandra-foreground=yes",
        `-Dcassandra.storagedir=${dataDir}`,
        `-Dcassandra.logdir=${join(dir, "logs")}`,
        `-Dlogback.configurationFile=${join(assetsDir(), "cassandra", "logback.xml")}`,
        "-Dcassandra.skip_wait_for_gossip_to_settle=0",
        "-Dcassandra.ring_delay_ms=1000",
        "-Dcassandra.superuser_setup_delay_ms=0",
        "-cp",
        classpath,
        "org.apache.cassandra.service.CassandraDaemon",
      ],
      this.log("cassandra"),
      dir,
    );
    await waitProbe(
      `the private Cassandra on 127.0.0.1:${this.ports.cassandra} to answer CQL`,
      () =>
        probeCassandra(
          [`127.0.0.1:${this.ports.cassandra}`],
          "datacenter1",
          5_000,
        ),
      180_000,
    );
  }

  private async pgCtl(args: readonly string[]): Promise<void> {
    const dataDir = join(this.dir("postgres"), "data");
    const r = await run("runuser", [
      "-u",
      "postgres",
      "--",
      join(pgBin(), "pg_ctl"),
      "-D",
      dataDir,
      "-l",
      this.log("postgres"),
      ...args,
    ]);
    if (r.code !== 0)
      throw new Error(
        `pg_ctl ${args.join(" ")} failed (exit ${String(r.code)}): ${r.stdout}${r.stderr}`,
      );
  }

  private async startPostgres(): Promise<void> {
    const dir = this.dir("postgres");
    const dataDir = join(dir, "data");
    const fresh = !existsSync(join(dataDir, "PG_VERSION"));
    await mkdir(dir, { recursive: true, mode: 0o755 });
    const pw = await run("id", ["-u", "postgres"]);
    const gw = await run("id", ["-g", "postgres"]);
    const uid = Number(pw.stdout.trim());
    const gid = Number(gw.stdout.trim());
    chownSync(dir, uid, gid);
    // The server log is written by the postgres user.
    closeSync(openSync(this.log("postgres"), "a"));
    chownSync(this.log("postgres"), uid, gid);
    if (fresh) {
      const init = await run("runuser", [
        "-u",
        "postgres",
        "--",
        join(pgBin(), "initdb"),
        "-D",
        dataDir,
        "-U",
        "postgres",
        "--auth=trust",
        "-E",
        "UTF8",
      ]);
      if (init.code !== 0)
        throw new Error(`initdb failed: ${init.stdout}${init.stderr}`);
    }
    await this.pgCtl([
      "start",
      "-w",
      "-t",
      "60",
      "-o",
      `-p ${this.ports.postgres} -k ${dir} -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off`,
    ]);
    this.pgStarted = true;
    if (fresh) {
      const psql = await run(join(pgBin(), "psql"), [
        "-X",
        "-q",
        "-h",
        "127.0.0.1",
        "-p",
        String(this.ports.postgres),
        "-U",
        "postgres",
        "-d",
        "postgres",
        "-v",
        "ON_ERROR_STOP=1",
        "-c",
        "CREATE ROLE sluice LOGIN SUPERUSER PASSWORD 'sluice'",
        "-c",
        "CREATE DATABASE sluice OWNER sluice",
      ]);
      if (psql.code !== 0)
        throw new Error(`creating role/db sluice failed: ${psql.stderr}`);
    }
  }
}
