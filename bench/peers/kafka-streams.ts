import { spawn } from "node:child_process";
import type { ChildProcessWithoutNullStreams } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { cacheDir } from "../../stack/paths.js";
import { javaHome } from "../../stack/tooling.js";
import { NEXMARK_SCHEMA } from "../nexmark/avro.js";

/** The Kafka Streams peer's queries (`Peers.java`). */
export type PeerQuery = "count" | "q5" | "q7";

/** What one run of the peer reported. */
export interface PeerRun {
  readonly query: PeerQuery;
  /** First input record to the last bid the query's last keyed step saw. */
  readonly seconds: number;
  readonly outputs: number;
  /** count, q5: [windowStart, auction, n]; q7: [windowStart, auction, price, bidder, dateTime]. */
  readonly rows: readonly (readonly number[])[];
  /** CPU seconds the JVM used during the run (all its threads). */
  readonly cpuSeconds: number;
}

/** The built peer: how to start it. */
export interface PeerBuild {
  readonly java: string;
  readonly classpath: string;
  /** Seconds the Maven build took; 0 when the cached build was reused. */
  readonly buildSeconds: number;
}

const PROJECT = join("bench", "peers", "kafka-streams");
const SOURCE = join(
  "src",
  "main",
  "java",
  "dev",
  "sluice",
  "bench",
  "peers",
  "Peers.java",
);

/** The Maven project's folder, found from this module (source tree or dist/). */
export function peerProjectDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, PROJECT);
    if (existsSync(join(candidate, "pom.xml"))) return candidate;
    dir = dirname(dir);
  }
  throw new Error(
    `cannot find ${PROJECT}/pom.xml above ${fileURLToPath(import.meta.url)}: run the bench from a checkout of the repository`,
  );
}

const run = (
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; output: string }> =>
  new Promise((resolve, reject) => {
    const child = spawn(command, args, { env });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output }));
  });

/**
 * Builds the peer with `mvn -q -B package dependency:build-classpath` into
 * `<SLUICE_CACHE_DIR>/peers-kafka-streams/<hash of pom and source>/` (jars stay in ~/.m2),
 * with the JDK 17 stack/ uses (`SLUICE_JAVA_HOME`); reuses that build when its jars exist.
 */
export async function buildKafkaStreamsPeer(): Promise<PeerBuild> {
  const project = peerProjectDir();
  const pom = join(project, "pom.xml");
  const key = createHash("sha256")
    .update(readFileSync(pom))
    .update(readFileSync(join(project, SOURCE)))
    .digest("hex")
    .slice(0, 16);
  const out = join(cacheDir(), "peers-kafka-streams", key);
  const jar = join(out, "kafka-streams-peer-1.jar");
  const cpFile = join(out, "classpath.txt");
  const java = join(javaHome(), "bin", "java");
  if (!existsSync(java))
    throw new Error(
      `${java} is missing: run \`sluice stack up\` (it installs JDK 17) or set SLUICE_JAVA_HOME`,
    );
  const cached = (): string | undefined => {
    if (!existsSync(jar) || !existsSync(cpFile)) return undefined;
    const deps = readFileSync(cpFile, "utf8").trim();
    return deps.split(":").every((j) => existsSync(j))
      ? `${jar}:${deps}`
      : undefined;
  };
  const hit = cached();
  if (hit !== undefined) return { java, classpath: hit, buildSeconds: 0 };
  const t0 = Date.now();
  const r = await run(
    "mvn",
    [
      "-q",
      "-B",
      "-f",
      pom,
      "package",
      "dependency:build-classpath",
      "-DincludeScope=runtime",
      `-Dsluice.build.dir=${out}`,
      `-Dmdep.outputFile=${cpFile}`,
    ],
    { ...process.env, JAVA_HOME: javaHome() },
  ).catch((e: unknown) => {
    throw new Error(
      `cannot run mvn (install Maven, as \`sluice stack up\` does): ${String(e)}`,
    );
  });
  const classpath = cached();
  if (r.code !== 0 || classpath === undefined)
    throw new Error(
      `mvn package of ${pom} failed (exit ${String(r.code)}):\n${r.output.split("\n").slice(-30).join("\n")}`,
    );
  return { java, classpath, buildSeconds: (Date.now() - t0) / 1000 };
}

/**
 * One long-lived JVM running `Peers.java` (so its JIT stays warm across the harness's
 * rounds): `run` sends a command on stdin and resolves with the JSON line it prints.
 */
export class KafkaStreamsPeer {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly lines: string[] = [];
  private waiting: ((line: string) => void) | undefined;
  private exited: string | undefined;
  private stderr = "";

  private constructor(build: PeerBuild, brokers: readonly string[]) {
    this.child = spawn(
      build.java,
      [
        "-Xms512m",
        "-Xmx1g",
        "-cp",
        build.classpath,
        "dev.sluice.bench.peers.Peers",
        brokers.join(","),
        JSON.stringify(NEXMARK_SCHEMA),
      ],
      { stdio: ["pipe", "pipe", "pipe"] },
    );
    createInterface({ input: this.child.stdout }).on("line", (line) => {
      const w = this.waiting;
      this.waiting = undefined;
      if (w !== undefined) w(line);
      else this.lines.push(line);
    });
    this.child.stderr.on("data", (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-4_000);
    });
    this.child.on("exit", (code) => {
      this.exited = `the Kafka Streams peer exited (code ${String(code)}): ${this.stderr}`;
      const w = this.waiting;
      this.waiting = undefined;
      w?.(JSON.stringify({ error: this.exited }));
    });
  }

  /** Starts the JVM and waits for it to say it is ready. */
  static async start(
    build: PeerBuild,
    brokers: readonly string[],
  ): Promise<KafkaStreamsPeer> {
    const peer = new KafkaStreamsPeer(build, brokers);
    const ready = JSON.parse(await peer.next()) as {
      ready?: boolean;
      error?: string;
    };
    if (ready.ready !== true)
      throw new Error(
        `the Kafka Streams peer did not start: ${ready.error ?? JSON.stringify(ready)}`,
      );
    return peer;
  }

  private next(): Promise<string> {
    const line = this.lines.shift();
    if (line !== undefined) return Promise.resolve(line);
    if (this.exited !== undefined)
      return Promise.resolve(JSON.stringify({ error: this.exited }));
    return new Promise((resolve) => (this.waiting = resolve));
  }

  /**
   * Runs `query` over the topic in a fresh application id (so from the beginning) and
   * resolves when its last keyed step saw all `bids`; the instance is closed (caches
   * flushed, every closed window emitted) before it resolves.
   */
  async run(o: {
    readonly query: PeerQuery;
    readonly topic: string;
    readonly events: number;
    readonly bids: number;
    readonly applicationId: string;
    readonly collect?: boolean;
  }): Promise<PeerRun> {
    this.child.stdin.write(
      `run ${o.query} ${o.topic} ${o.events} ${o.bids} ${o.applicationId} ${o.collect === true ? 1 : 0}\n`,
    );
    const reply = JSON.parse(await this.next()) as Partial<PeerRun> & {
      error?: string;
    };
    if (reply.error !== undefined)
      throw new Error(`Kafka Streams ${o.query}: ${reply.error}`);
    return reply as PeerRun;
  }

  /** Ends the JVM (stdin closed; killed after 10 s). */
  async close(): Promise<void> {
    if (this.exited !== undefined) return;
    const exited = new Promise<void>((r) => this.child.once("exit", () => r()));
    this.child.stdin.end();
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
  }
}
