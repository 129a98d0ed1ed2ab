import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { StackError } from "../errors.js";
import { assetsDir, logPath, pidPath, serviceDir } from "../paths.js";
import { spawnDaemon, stopDaemon } from "../process.js";
import { ensureJava, jarOf, javaHome, mavenClasspath } from "../tooling.js";
import type { Endpoints, EventSink } from "../types.js";
import { isLoopback, renderTemplate, type ServiceDriver } from "./driver.js";

const LOG = logPath("cassandra");

/** Cassandra 5.0 on JDK 17: conf/jvm17-server.options' module flags. */
export const JPMS_FLAGS: readonly string[] = [
  "-Djdk.attach.allowAttachSelf=true",
  "-Dio.netty.tryReflectionSetAccessible=true",
  ...[
    "java.base/jdk.internal.misc",
    "java.base/jdk.internal.ref",
    "java.base/sun.nio.ch",
    "java.management.rmi/com.sun.jmx.remote.internal.rmi",
    "java.management/com.sun.jmx.remote.security",
    "java.rmi/sun.rmi.registry",
    "java.rmi/sun.rmi.server",
    "java.sql/java.sql",
    "java.base/java.lang.ref",
    "jdk.unsupported/sun.misc",
  ].flatMap((p) => ["--add-exports", `${p}=ALL-UNNAMED`]),
  ...[
    "java.base/java.lang.module",
    "java.base/jdk.internal.loader",
    "java.base/jdk.internal.ref",
    "java.base/jdk.internal.reflect",
    "java.base/jdk.internal.math",
    "java.base/jdk.internal.module",
    "java.base/jdk.internal.util.jar",
    "jdk.management/com.sun.management.internal",
    "java.base/sun.nio.ch",
    "java.base/java.io",
    "java.base/java.nio",
    "java.base/java.lang",
    "java.base/java.lang.reflect",
    "java.base/java.util",
    "java.base/java.util.concurrent",
    "java.base/java.util.concurrent.atomic",
    "java.base/java.math",
    "java.base/java.net",
  ].flatMap((p) => ["--add-opens", `${p}=ALL-UNNAMED`]),
];

/** Apache Cassandra 5.0 single node from `cassandra-all` on JDK 17, CDC enabled. */
export const cassandra: ServiceDriver = {
  name: "cassandra",
  canStart: (e: Endpoints) =>
    e.cassandraContactPoints.length === 1 &&
    e.cassandraContactPoints.every(
      (c) => isLoopback(c, 9042) || c === "127.0.0.1" || c === "localhost",
    ),

  async start(_e: Endpoints, emit: EventSink) {
    const java = await ensureJava("cassandra", emit);
    const classpath = await mavenClasspath("cassandra", emit);
    const jamm = jarOf(classpath, "jamm-");
    if (jamm === undefined) {
      throw new StackError(
        "cassandra",
        "jamm jar not on the resolved classpath (needed as -javaagent)",
        LOG,
      );
    }
    const dir = serviceDir("cassandra");
    const dataDir = join(dir, "data");
    // cdc_raw next to commitlog: one filesystem, CDC segments are hard links.
    for (const sub of [
      "data",
      "commitlog",
      "cdc_raw",
      "saved_caches",
      "hints",
    ]) {
      await mkdir(join(dataDir, sub), { recursive: true });
    }
    await mkdir(join(dir, "logs"), { recursive: true });
    const yaml = join(dir, "cassandra.yaml");
    await renderTemplate(
      join(assetsDir(), "cassandra", "cassandra.yaml"),
      yaml,
      {
        DATA_DIR: dataDir,
      },
    );
    emit({
      service: "cassandra",
      phase: "starting",
      message: `starting single node on 127.0.0.1:9042 (CDC on, java from ${javaHome()})`,
    });
    await spawnDaemon(
      java,
      [
        "-Xms1G",
        "-Xmx1G",
        "-Xss256k",
        "-XX:+UseG1GC",
        "-XX:+ExitOnOutOfMemoryError",
        "-ea",
        "-Djava.net.preferIPv4Stack=true",
        `-javaagent:${jamm}`,
        ...JPMS_FLAGS,
        `-Dcassandra.config=file://${yaml}`,
        "-Dcassandra-foreground=yes",
        `-Dcassandra.storagedir=${dataDir}`,
        `-Dcassandra.logdir=${join(dir, "logs")}`,
        `-Dlogback.configurationFile=${join(assetsDir(), "cassandra", "logback.xml")}`,
        // Start-up tuning for one node (each verified on 5.0.8: RING_DELAY override is logged).
        "-Dcassandra.skip_wait_for_gossip_to_settle=0",
        "-Dcassandra.ring_delay_ms=1000",
        "-Dcassandra.superuser_setup_delay_ms=0",
        "-cp",
        classpath,
        "org.apache.cassandra.service.CassandraDaemon",
      ],
      { log: LOG, pidFile: pidPath("cassandra"), marker: yaml, cwd: dir },
    );
    return "started";
  },

  // SIGTERM runs Cassandra's shutdown hook, which drains (flushes memtables, closes commitlog).
  stop: () => stopDaemon(pidPath("cassandra"), 60_000),
};
