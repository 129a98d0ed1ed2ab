import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, rename, rm } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** Where the reader's sources, the Cassandra pom and the caches are. */
export interface ReaderPaths {
  /** `pipelines/reviews/cdc/java/` (CdcReader.java, logback.xml). */
  readonly javaDir: string;
  /** `stack/cassandra/pom.xml`: the cassandra-all version the node runs. */
  readonly pom: string;
  /** `$SLUICE_CACHE_DIR/reviews-cdc` (default `~/.cache/sluice/reviews-cdc`). */
  readonly cacheDir: string;
}

/** The compiled reader: its classpath (classes first) and its logback configuration. */
export interface BuiltReader {
  readonly classpath: string;
  readonly logbackXml: string;
}

function envDir(name: string, fallback: string): string {
  const v = process.env[name];
  return resolve(v !== undefined && v !== "" ? v : fallback);
}

/** `$SLUICE_STATE_DIR` (default `~/.local/state/sluice`), where `stack/` keeps Cassandra's files. */
export function sluiceStateDir(): string {
  return envDir(
    "SLUICE_STATE_DIR",
    join(homedir(), ".local", "state", "sluice"),
  );
}

/** Finds the reader's files from this module (`pipelines/…` under vitest, `dist/pipelines/…` built). */
export function readerPaths(): ReaderPaths {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const root of [
    resolve(here, "../../.."),
    resolve(here, "../../../.."),
  ]) {
    const javaDir = join(root, "pipelines", "reviews", "cdc", "java");
    const pom = join(root, "stack", "cassandra", "pom.xml");
    if (existsSync(join(javaDir, "CdcReader.java")) && existsSync(pom)) {
      return {
        javaDir,
        pom,
        cacheDir: join(
          envDir("SLUICE_CACHE_DIR", join(homedir(), ".cache", "sluice")),
          "reviews-cdc",
        ),
      };
    }
  }
  throw new Error(`CDC reader sources not found above ${here}`);
}

function exec(
  cmd: string,
  args: readonly string[],
): Promise<{ code: number | null; output: string }> {
  return new Promise((done, fail) => {
    const p = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    p.stdout.on("data", (d: Buffer) => (output += d.toString()));
    p.stderr.on("data", (d: Buffer) => (output += d.toString()));
    p.on("error", fail);
    p.on("close", (code) => done({ code, output }));
  });
}

/** javac comes with the JDK package; stack/ installs only the JRE. Installs it when we are root. */
async function ensureJavac(javaHome: string): Promise<void> {
  if (existsSync(join(javaHome, "bin", "javac"))) return;
  const pkg = "openjdk-17-jdk-headless";
  if (process.getuid?.() === 0) {
    const r = await exec("apt-get", [
      "install",
      "-y",
      "--no-install-recommends",
      pkg,
    ]);
    if (r.code === 0 && existsSync(join(javaHome, "bin", "javac"))) return;
  }
  throw new Error(
    `${join(javaHome, "bin", "javac")} is missing: install ${pkg} (apt-get install -y ${pkg}) or set SLUICE_JAVA_HOME to a JDK 17`,
  );
}

const sha = (...parts: (string | Buffer)[]): string => {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return h.digest("hex").slice(0, 16);
};

/**
 * Resolves cassandra-all's runtime classpath with Maven (jars stay in ~/.m2) and compiles
 * `CdcReader.java` against it with `javac`, both cached under `<cache>/reviews-cdc/` keyed by a
 * hash of the pom and of the source. A fresh clone needs only `mvn` and a JDK 17.
 *
 * @example
 * const { classpath } = await buildReader("/usr/lib/jvm/java-17-openjdk-amd64");
 */
export async function buildReader(
  javaHome: string,
  paths: ReaderPaths = readerPaths(),
): Promise<BuiltReader> {
  await mkdir(paths.cacheDir, { recursive: true });
  const pomText = await readFile(paths.pom);
  const cpFile = join(paths.cacheDir, `classpath-${sha(pomText)}.txt`);
  let jars: string | undefined;
  if (existsSync(cpFile)) {
    const cached = (await readFile(cpFile, "utf8")).trim();
    if (cached !== "" && cached.split(":").every((j) => existsSync(j))) {
      jars = cached;
    }
  }
  if (jars === undefined) {
    const tmp = `${cpFile}.${String(process.pid)}.tmp`;
    const r = await exec("mvn", [
      "-q",
      "-B",
      "-f",
      paths.pom,
      "dependency:build-classpath",
      "-DincludeScope=runtime",
      `-Dmdep.outputFile=${tmp}`,
    ]);
    if (r.code !== 0 || !existsSync(tmp)) {
      throw new Error(
        `mvn dependency:build-classpath on ${paths.pom} failed (exit ${String(r.code)}): ${r.output.slice(-2000)}`,
      );
    }
    await rename(tmp, cpFile);
    jars = (await readFile(cpFile, "utf8")).trim();
  }
  const source = join(paths.javaDir, "CdcReader.java");
  const classes = join(
    paths.cacheDir,
    `classes-${sha(await readFile(source), pomText)}`,
  );
  if (!existsSync(join(classes, "dev", "sluice", "cdc", "CdcReader.class"))) {
    await ensureJavac(javaHome);
    const tmp = `${classes}.${String(process.pid)}.tmp`;
    await rm(tmp, { recursive: true, force: true });
    const r = await exec(join(javaHome, "bin", "javac"), [
      "-nowarn",
      "-d",
      tmp,
      "-cp",
      jars,
      source,
    ]);
    if (r.code !== 0) {
      throw new Error(`javac ${source} failed: ${r.output.slice(-2000)}`);
    }
    await rm(classes, { recursive: true, force: true });
    await rename(tmp, classes);
  }
  return {
    classpath: `${classes}:${jars}`,
    logbackXml: join(paths.javaDir, "logback.xml"),
  };
}
