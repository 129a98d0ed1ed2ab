import { randomBytes } from "node:crypto";
import cassandra from "cassandra-driver";
import kafkajs from "kafkajs";
import memjs from "memjs";
import pg from "pg";
import { messageOf } from "./errors.js";
import type { Endpoints, ServiceName } from "./types.js";

/** Rejects with a timeout error when `work` does not settle within `ms`; runs `cleanup` either way. */
async function bounded<T>(
  what: string,
  ms: number,
  work: Promise<T>,
  cleanup: () => Promise<void> | void,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`${what}: no answer within ${ms} ms`));
    }, ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
    // A failed probe may leave `work` pending; swallow its late rejection.
    work.catch(() => undefined);
    try {
      await cleanup();
    } catch {
      // best effort: the probe's answer is what matters
    }
  }
}

/** Asks the brokers for their topic list (a metadata request). Resolves to a short description. */
export async function probeKafka(
  brokers: readonly string[],
  timeoutMs: number,
): Promise<string> {
  const kafka = new kafkajs.Kafka({
    clientId: "sluice-stack-probe",
    brokers: [...brokers],
    connectionTimeout: Math.min(timeoutMs, 3000),
    requestTimeout: timeoutMs,
    retry: { retries: 0 },
    logLevel: kafkajs.logLevel.NOTHING,
  });
  const admin = kafka.admin({ retry: { retries: 0 } });
  const work = (async () => {
    await admin.connect();
    const cluster = await admin.describeCluster();
    const topics = await admin.listTopics();
    return `cluster ${cluster.clusterId}, ${cluster.brokers.length} broker(s), ${topics.length} topic(s)`;
  })();
  return bounded("kafka metadata request", timeoutMs, work, () =>
    admin.disconnect(),
  );
}

/** Runs `SELECT release_version FROM system.local`. Resolves to the version. */
export async function probeCassandra(
  contactPoints: readonly string[],
  localDataCenter: string,
  timeoutMs: number,
): Promise<string> {
  const client = new cassandra.Client({
    contactPoints: [...contactPoints],
    localDataCenter,
    socketOptions: {
      connectTimeout: Math.min(timeoutMs, 5000),
      readTimeout: timeoutMs,
    },
  });
  const work = (async () => {
    await client.connect();
    const rs = await client.execute("SELECT release_version FROM system.local");
    const version: unknown = rs.first()?.get("release_version");
    return `Cassandra ${String(version)}`;
  })();
  return bounded("cassandra query", timeoutMs, work, () => client.shutdown());
}

/** Runs `select 1` (and reads the server version). */
export async function probePostgres(
  databaseUrl: string,
  timeoutMs: number,
): Promise<string> {
  const client = new pg.Client({
    connectionString: databaseUrl,
    connectionTimeoutMillis: timeoutMs,
  });
  // An error after connect (server shutting down) must not crash the process.
  client.on("error", () => undefined);
  const work = (async () => {
    await client.connect();
    await client.query("select 1");
    const r = await client.query<{ server_version: string }>(
      "show server_version",
    );
    return `PostgreSQL ${r.rows[0]?.server_version ?? "?"}`;
  })();
  return bounded("postgres select 1", timeoutMs, work, () => client.end());
}

/** Sets and reads back a short-lived key. */
export async function probeMemcached(
  servers: readonly string[],
  timeoutMs: number,
): Promise<string> {
  const seconds = Math.max(1, Math.ceil(timeoutMs / 1000));
  const client = memjs.Client.create(servers.join(","), {
    retries: 0,
    timeout: seconds,
    conntimeout: seconds,
    logger: { log: () => undefined },
  });
  const key = `sluice:stack:probe:${randomBytes(6).toString("hex")}`;
  const work = (async () => {
    await client.set(key, "ok", { expires: 10 });
    const { value } = await client.get(key);
    if (value?.toString("utf8") !== "ok") {
      throw new Error("memcached returned a different value than was set");
    }
    await client.delete(key);
    return "set/get ok";
  })();
  return bounded("memcached set/get", timeoutMs, work, () => client.close());
}

/** The address of a service as printed to people (passwords redacted by the caller). */
export function addressOf(service: ServiceName, e: Endpoints): string {
  switch (service) {
    case "kafka":
      return e.kafkaBrokers.join(",");
    case "cassandra":
      return e.cassandraContactPoints.join(",");
    case "postgres":
      return e.databaseUrl;
    case "memcached":
      return e.memcachedServers.join(",");
  }
}

/** Checks that one service answers within `timeoutMs`; resolves to a description. */
export function probe(
  service: ServiceName,
  e: Endpoints,
  timeoutMs: number,
): Promise<string> {
  switch (service) {
    case "kafka":
      return probeKafka(e.kafkaBrokers, timeoutMs);
    case "cassandra":
      return probeCassandra(
        e.cassandraContactPoints,
        e.cassandraLocalDc,
        timeoutMs,
      );
    case "postgres":
      return probePostgres(e.databaseUrl, timeoutMs);
    case "memcached":
      return probeMemcached(e.memcachedServers, timeoutMs);
  }
}

/** Like `probe`, but resolves to `{ ok, detail }` instead of rejecting. */
export async function check(
  service: ServiceName,
  e: Endpoints,
  timeoutMs: number,
): Promise<{ readonly ok: boolean; readonly detail: string }> {
  try {
    return { ok: true, detail: await probe(service, e, timeoutMs) };
  } catch (err) {
    // Drivers append multi-line dumps (cassandra-driver's innerErrors); the first line says it.
    return { ok: false, detail: messageOf(err).split("\n")[0] ?? "" };
  }
}
