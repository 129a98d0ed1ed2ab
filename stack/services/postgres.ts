import { existsSync } from "node:fs";
import { appendFile, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { StackError } from "../errors.js";
import { logPath, pidPath, serviceDir } from "../paths.js";
import { livePid, run, stopDaemon, which } from "../process.js";
import { aptInstall } from "../tooling.js";
import type { Endpoints, EventSink } from "../types.js";
import type { ServiceDriver } from "./driver.js";

const LOG = logPath("postgres");
const CLUSTER_FILE = join(serviceDir("postgres"), "cluster.json");

interface Cluster {
  readonly version: string;
  readonly name: string;
  readonly port: number;
  readonly online: boolean;
  readonly dataDir: string;
  readonly logFile: string;
}

interface Target {
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly database: string;
}

function target(url: string): Target | undefined {
  try {
    const u = new URL(url);
    if (!["127.0.0.1", "localhost", "[::1]"].includes(u.hostname)) {
      return undefined;
    }
    return {
      port: u.port === "" ? 5432 : Number(u.port),
      user: decodeURIComponent(u.username),
      password: decodeURIComponent(u.password),
      database: decodeURIComponent(u.pathname.replace(/^\//, "")),
    };
  } catch {
    return undefined;
  }
}

/** Debian's clusters (`pg_lsclusters`). */
async function clusters(): Promise<Cluster[]> {
  const r = await run("pg_lsclusters", ["--no-header"]);
  return r.stdout
    .split("\n")
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length >= 6)
    .map((f) => ({
      version: f[0] ?? "",
      name: f[1] ?? "",
      port: Number(f[2]),
      online: (f[3] ?? "").startsWith("online"),
      dataDir: f[5] ?? "",
      logFile: f[6] ?? "",
    }));
}

async function log(text: string): Promise<void> {
  await mkdir(serviceDir("postgres"), { recursive: true });
  await appendFile(LOG, text);
}

const ident = (s: string): string => `"${s.replaceAll('"', '""')}"`;
const literal = (s: string): string => `'${s.replaceAll("'", "''")}'`;

/** Creates (or updates) the role and creates the database, as the `postgres` OS user. */
async function ensureRoleAndDatabase(c: Cluster, t: Target): Promise<void> {
  const psql = (sql: string) =>
    run(
      "runuser",
      [
        "-u",
        "postgres",
        "--",
        "psql",
        "-X",
        "-q",
        "-t",
        "-A",
        "-p",
        String(c.port),
        "-d",
        "postgres",
        "-v",
        "ON_ERROR_STOP=1",
        "-f",
        "-",
      ],
      { input: sql },
    );
  const role = await psql(
    `DO $$ BEGIN
       IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = ${literal(t.user)}) THEN
         CREATE ROLE ${ident(t.user)} LOGIN PASSWORD ${literal(t.password)};
       ELSE
         ALTER ROLE ${ident(t.user)} LOGIN PASSWORD ${literal(t.password)};
       END IF;
     END $$;
     SELECT count(*) FROM pg_database WHERE datname = ${literal(t.database)};`,
  );
  await log(role.stdout + role.stderr);
  if (role.code !== 0) {
    throw new StackError(
      "postgres",
      `creating role ${t.user} failed`,
      LOG,
      role.stderr,
    );
  }
  if (role.stdout.trim().split("\n").pop() === "0") {
    const db = await psql(
      `CREATE DATABASE ${ident(t.database)} OWNER ${ident(t.user)};`,
    );
    await log(db.stdout + db.stderr);
    if (db.code !== 0 && !db.stderr.includes("already exists")) {
      throw new StackError(
        "postgres",
        `creating database ${t.database} failed`,
        LOG,
        db.stderr,
      );
    }
  }
}

let clusterLog: string | undefined;

/** PostgreSQL from Debian's `postgresql` package, managed with `pg_ctlcluster`. */
export const postgres: ServiceDriver = {
  name: "postgres",
  canStart: (e: Endpoints) => target(e.databaseUrl) !== undefined,

  async start(e: Endpoints, emit: EventSink) {
    const t = target(e.databaseUrl);
    if (t === undefined) {
      throw new StackError("postgres", "DATABASE_URL is not a loopback URL");
    }
    if ((await which("pg_ctlcluster")) === undefined) {
      await aptInstall("postgres", ["postgresql"], emit);
    }
    let c = (await clusters()).find((x) => x.port === t.port);
    if (c === undefined) {
      const versions = (await clusters()).map((x) => x.version);
      const installed = await run("sh", [
        "-c",
        "ls /usr/lib/postgresql | sort -n | tail -1",
      ]);
      const version = installed.stdout.trim() || versions[0] || "15";
      emit({
        service: "postgres",
        phase: "starting",
        message: `creating cluster ${version}/sluice on port ${t.port}`,
      });
      const r = await run("pg_createcluster", [
        version,
        t.port === 5432 ? "main" : `sluice${t.port}`,
        "-p",
        String(t.port),
      ]);
      await log(r.stdout + r.stderr);
      if (r.code !== 0) {
        throw new StackError(
          "postgres",
          "pg_createcluster failed",
          LOG,
          r.stderr,
        );
      }
      c = (await clusters()).find((x) => x.port === t.port);
      if (c === undefined) {
        throw new StackError(
          "postgres",
          `no cluster on port ${t.port} after pg_createcluster`,
          LOG,
        );
      }
    }
    clusterLog = c.logFile;
    if (!c.online) {
      emit({
        service: "postgres",
        phase: "starting",
        message: `pg_ctlcluster ${c.version} ${c.name} start (port ${c.port})`,
      });
      const r = await run("pg_ctlcluster", [c.version, c.name, "start"]);
      await log(r.stdout + r.stderr);
      if (r.code !== 0) {
        throw new StackError(
          "postgres",
          `pg_ctlcluster ${c.version} ${c.name} start failed (cluster log: ${c.logFile})`,
          LOG,
          r.stdout + r.stderr,
        );
      }
      const pidText = await readFile(join(c.dataDir, "postmaster.pid"), "utf8");
      const pid = Number(pidText.split("\n")[0]);
      await mkdir(serviceDir("postgres"), { recursive: true });
      await writeFile(
        pidPath("postgres"),
        JSON.stringify({ pid, marker: c.dataDir }) + "\n",
      );
      await writeFile(CLUSTER_FILE, JSON.stringify(c) + "\n");
    }
    await ensureRoleAndDatabase(c, t);
    return "started";
  },

  async stop() {
    const pid = await livePid(pidPath("postgres"));
    if (pid === undefined) return undefined;
    if (existsSync(CLUSTER_FILE)) {
      const c = JSON.parse(await readFile(CLUSTER_FILE, "utf8")) as Cluster;
      const r = await run("pg_ctlcluster", [
        c.version,
        c.name,
        "stop",
        "-m",
        "fast",
      ]);
      await log(r.stdout + r.stderr);
      await rm(CLUSTER_FILE, { force: true });
    }
    await stopDaemon(pidPath("postgres"), 30_000);
    return pid;
  },

  extraLog: () => clusterLog,
};
