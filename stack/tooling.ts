import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { appendFile, mkdir, readFile, rename } from "node:fs/promises";
import { join } from "node:path";
import { StackError } from "./errors.js";
import { assetsDir, cacheDir, logPath } from "./paths.js";
import { run, which } from "./process.js";
import type { EventSink, ServiceName } from "./types.js";

/** Java 17 (Cassandra 5.0 refuses JDK 24+; Kafka 4.x needs 17+). Override with `SLUICE_JAVA_HOME`. */
export function javaHome(env: NodeJS.ProcessEnv = process.env): string {
  const v = env["SLUICE_JAVA_HOME"];
  return v !== undefined && v !== "" ? v : "/usr/lib/jvm/java-17-openjdk-amd64";
}

let aptQueue: Promise<unknown> = Promise.resolve();
let aptUpdated = false;

/**
 * Installs Debian packages with apt-get (we run as root), one install at a time.
 * Output goes to the service's log.
 */
export function aptInstall(
  service: ServiceName,
  packages: readonly string[],
  emit: EventSink,
): Promise<void> {
  const job = aptQueue.then(async () => {
    const log = logPath(service);
    const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
    emit({
      service,
      phase: "resolving",
      message: `installing ${packages.join(" ")} with apt-get`,
    });
    if (!aptUpdated) {
      const u = await run("apt-get", ["update"], { env });
      await appendFile(log, u.stdout + u.stderr);
      if (u.code !== 0) {
        throw new StackError(service, "apt-get update failed", log, u.stderr);
      }
      aptUpdated = true;
    }
    const r = await run(
      "apt-get",
      ["install", "-y", "--no-install-recommends", ...packages],
      { env },
    );
    await appendFile(log, r.stdout + r.stderr);
    if (r.code !== 0) {
      throw new StackError(
        service,
        `apt-get install ${packages.join(" ")} failed (exit ${String(r.code)})`,
        log,
        r.stderr,
      );
    }
  });
  aptQueue = job.catch(() => undefined);
  return job;
}

/** Path of the java 17 binary, installing `openjdk-17-jre-headless` when it is missing. */
export async function ensureJava(
  service: ServiceName,
  emit: EventSink,
): Promise<string> {
  const java = join(javaHome(), "bin", "java");
  if (!existsSync(java)) {
    await aptInstall(service, ["openjdk-17-jre-headless"], emit);
    if (!existsSync(java)) {
      throw new StackError(
        service,
        `${java} is still missing after installing openjdk-17-jre-headless; set SLUICE_JAVA_HOME to a JDK 17`,
        logPath(service),
      );
    }
  }
  return java;
}

let mavenQueue: Promise<unknown> = Promise.resolve();

/**
 * The runtime classpath of `stack/<service>/pom.xml`, resolved by Maven into the local Maven
 * repository (~/.m2, jars are not copied) and cached in `<cache>/<service>/` keyed by the pom.
 */
export function mavenClasspath(
  service: "kafka" | "cassandra",
  emit: EventSink,
): Promise<string> {
  const job = mavenQueue.then(async () => {
    const pom = join(assetsDir(), service, "pom.xml");
    const key = createHash("sha256")
      .update(await readFile(pom))
      .update(process.env["MAVEN_OPTS"] ?? "")
      .digest("hex")
      .slice(0, 16);
    const dir = join(cacheDir(), service);
    const file = join(dir, `classpath-${key}.txt`);
    if (existsSync(file)) {
      const cp = (await readFile(file, "utf8")).trim();
      if (cp !== "" && cp.split(":").every((jar) => existsSync(jar))) {
        return cp;
      }
    }
    let mvn = await which("mvn");
    if (mvn === undefined) {
      await aptInstall(service, ["maven"], emit);
      mvn = await which("mvn");
      if (mvn === undefined) {
        throw new StackError(
          service,
          "mvn is still missing after installing maven",
          logPath(service),
        );
      }
    }
    emit({
      service,
      phase: "resolving",
      message: `resolving jars from Maven Central (${pom})`,
    });
    await mkdir(dir, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    const started = Date.now();
    const r = await run(mvn, [
      "-q",
      "-B",
      "-f",
      pom,
      "dependency:build-classpath",
      "-DincludeScope=runtime",
      `-Dmdep.outputFile=${tmp}`,
    ]);
    const log = logPath(service);
    await appendFile(log, r.stdout + r.stderr);
    if (r.code !== 0 || !existsSync(tmp)) {
      throw new StackError(
        service,
        `mvn dependency:build-classpath failed (exit ${String(r.code)})`,
        log,
        (r.stdout + r.stderr).split("\n").slice(-20).join("\n"),
      );
    }
    await rename(tmp, file);
    emit({
      service,
      phase: "resolving",
      message: `jars resolved in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    });
    return (await readFile(file, "utf8")).trim();
  });
  mavenQueue = job.catch(() => undefined);
  return job;
}

/** The one classpath entry whose file name starts with `prefix` (e.g. `jamm-`). */
export function jarOf(classpath: string, prefix: string): string | undefined {
  return classpath
    .split(":")
    .find((jar) => (jar.split("/").pop() ?? "").startsWith(prefix));
}
