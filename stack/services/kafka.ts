import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { appendFile, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { StackError } from "../errors.js";
import { assetsDir, logPath, pidPath, serviceDir } from "../paths.js";
import { run, spawnDaemon, stopDaemon } from "../process.js";
import { ensureJava, mavenClasspath } from "../tooling.js";
import type { Endpoints, EventSink } from "../types.js";
import { isLoopback, renderTemplate, type ServiceDriver } from "./driver.js";

const LOG = logPath("kafka");

/** 16 random bytes, base64url, not starting with "-" (Kafka's cluster-id rule). */
function newClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString("base64url");
    if (!id.startsWith("-")) return id;
  }
}

async function clusterId(dir: string): Promise<string> {
  const file = join(dir, "cluster-id");
  if (existsSync(file)) return (await readFile(file, "utf8")).trim();
  const id = newClusterId();
  await writeFile(file, id + "\n");
  return id;
}

/** Apache Kafka 4.1 in KRaft mode: one combined broker + controller from Maven Central jars. */
export const kafka: ServiceDriver = {
  name: "kafka",
  canStart: (e: Endpoints) =>
    e.kafkaBrokers.length === 1 &&
    e.kafkaBrokers.every((b) => isLoopback(b, 9092)),

  async start(_e: Endpoints, emit: EventSink) {
    const java = await ensureJava("kafka", emit);
    const classpath = await mavenClasspath("kafka", emit);
    const dir = serviceDir("kafka");
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
    const logConfig = `-Dlog4j2.configurationFile=file:${join(assetsDir(), "kafka", "log4j2.properties")}`;
    const id = await clusterId(dir);
    emit({
      service: "kafka",
      phase: "starting",
      message: "formatting storage",
    });
    const format = await run(java, [
      logConfig,
      "-cp",
      classpath,
      "kafka.tools.StorageTool",
      "format",
      "-t",
      id,
      "-c",
      props,
      "--ignore-formatted",
    ]);
    await appendFile(LOG, format.stdout + format.stderr);
    if (format.code !== 0) {
      throw new StackError(
        "kafka",
        `kafka.tools.StorageTool format failed (exit ${String(format.code)})`,
        LOG,
        (format.stdout + format.stderr).split("\n").slice(-20).join("\n"),
      );
    }
    emit({
      service: "kafka",
      phase: "starting",
      message: "starting broker+controller (KRaft) on 127.0.0.1:9092/9093",
    });
    await spawnDaemon(
      java,
      [
        "-Xms512m",
        "-Xmx512m",
        "-XX:+UseG1GC",
        "-XX:MaxGCPauseMillis=20",
        "-XX:InitiatingHeapOccupancyPercent=35",
        "-XX:+ExplicitGCInvokesConcurrent",
        "-XX:+ExitOnOutOfMemoryError",
        "-Djava.awt.headless=true",
        `-Dkafka.logs.dir=${join(dir, "logs")}`,
        logConfig,
        "-cp",
        classpath,
        "kafka.Kafka",
        props,
      ],
      { log: LOG, pidFile: pidPath("kafka"), marker: props, cwd: dir },
    );
    return "started";
  },

  stop: () => stopDaemon(pidPath("kafka"), 30_000),
};
