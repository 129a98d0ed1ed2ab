import type { Endpoints } from "./types.js";

/** Loopback defaults used when the environment names no address. */
export const DEFAULTS = {
  kafkaBroker: "127.0.0.1:9092",
  cassandraContactPoint: "127.0.0.1:9042",
  cassandraLocalDc: "datacenter1",
  databaseUrl: "postgres://sluice:sluice@127.0.0.1:5432/sluice",
  memcachedServer: "127.0.0.1:11211",
} as const;

/** The environment variable that overrides each address. */
export const ENV_VARS = {
  kafka: "KAFKA_BROKERS",
  cassandra: "CASSANDRA_CONTACT_POINTS",
  postgres: "DATABASE_URL",
  memcached: "MEMCACHED_SERVERS",
} as const;

function list(value: string | undefined, fallback: string): readonly string[] {
  const items = (value ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  return items.length > 0 ? items : [fallback];
}

function nonEmpty(value: string | undefined, fallback: string): string {
  return value === undefined || value.trim() === "" ? fallback : value.trim();
}

/**
 * Resolves where each service is reached: environment variables first, loopback defaults otherwise.
 *
 * @example
 * const { kafkaBrokers } = endpoints(); // ["127.0.0.1:9092"] unless KAFKA_BROKERS is set
 */
export function endpoints(env: NodeJS.ProcessEnv = process.env): Endpoints {
  return {
    kafkaBrokers: list(env[ENV_VARS.kafka], DEFAULTS.kafkaBroker),
    cassandraContactPoints: list(
      env[ENV_VARS.cassandra],
      DEFAULTS.cassandraContactPoint,
    ),
    cassandraLocalDc: nonEmpty(
      env["CASSANDRA_LOCAL_DC"],
      DEFAULTS.cassandraLocalDc,
    ),
    databaseUrl: nonEmpty(env[ENV_VARS.postgres], DEFAULTS.databaseUrl),
    memcachedServers: list(env[ENV_VARS.memcached], DEFAULTS.memcachedServer),
  };
}

/** Redacts the password of a connection URL so it can be printed. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== "") u.password = "***";
    return u.toString();
  } catch {
    return url.replace(/\/\/([^:/@]+):[^@]*@/, "//$1:***@");
  }
}
