import { homedir } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import {
  createCassandraClient,
  type CassandraClient,
} from "../../../connectors/cassandra/index.js";
import {
  createPostgresPool,
  type PostgresPool,
} from "../../../connectors/postgres/index.js";
import { ConfigError, type RuntimeConfig } from "../../../runtime/config.js";
import type { Wiring } from "../stack-wiring.js";

/** Lower-case identifiers, as both Cassandra keyspaces and PostgreSQL schemas accept unquoted. */
export const identifier = z
  .string()
  .regex(/^[a-z][a-z0-9_]{0,47}$/, "must match [a-z][a-z0-9_]{0,47}");
export const port = z.number().int().min(0).max(65535);
/**
 * A service address whose fields default one by one, so setting only the host (as the
 * manifests do with `SLUICE_JOB__REVIEW_SERVICE__HOST`) keeps the default port.
 */
export const endpoint = (defaultPort: number) =>
  z
    .object({
      host: z.string().min(1).default("127.0.0.1"),
      port: port.default(defaultPort),
    })
    .strict()
    .prefault({});

/** The service ports every reviews job agrees on by default (override per job config). */
export const DEFAULT_PORTS = {
  review: 7101,
  movie: 7102,
  user: 7103,
} as const;

/** Names shared by the reviews jobs: topics, keyspace, schemas, key prefixes. */
export const namesSchema = {
  keyspace: identifier.default("reviews"),
  catalogSchema: identifier.default("reviews_catalog"),
  analyticsSchema: identifier.default("analytics"),
  reviewsTopic: z.string().min(1).default("reviews"),
  enrichedTopic: z.string().min(1).default("reviews-enriched"),
  deadLetterTopic: z.string().min(1).default("reviews-dead-letters"),
};

function missing(field: string, env: string): ConfigError {
  return new ConfigError([`${field} must be set (or set ${env})`]);
}

export function kafkaBrokers(runtime: RuntimeConfig): readonly string[] {
  if (runtime.kafka === undefined)
    throw missing("kafka.brokers", "KAFKA_BROKERS");
  return runtime.kafka.brokers;
}

export function memcachedServers(runtime: RuntimeConfig): readonly string[] {
  if (runtime.memcached === undefined)
    throw missing("memcached.servers", "MEMCACHED_SERVERS");
  return runtime.memcached.servers;
}

export function cassandraSettings(runtime: RuntimeConfig): {
  readonly contactPoints: readonly string[];
  readonly localDataCenter: string;
} {
  if (runtime.cassandra === undefined)
    throw missing("cassandra.contactPoints", "CASSANDRA_CONTACT_POINTS");
  return {
    contactPoints: runtime.cassandra.contactPoints,
    localDataCenter: runtime.cassandra.localDc,
  };
}

/** A Cassandra client for `keyspace`, closed at shutdown. */
export function cassandraFor(
  w: Wiring,
  runtime: RuntimeConfig,
  keyspace: string,
): CassandraClient {
  const c = runtime.cassandra;
  if (c === undefined)
    throw missing("cassandra.contactPoints", "CASSANDRA_CONTACT_POINTS");
  const db = createCassandraClient({
    contactPoints: c.contactPoints,
    localDataCenter: c.localDc,
    keyspace,
    replication: {
      class: "SimpleStrategy",
      replicationFactor: c.replicationFactor,
    },
    ...(c.username !== undefined && c.password !== undefined
      ? { username: c.username, password: c.password.reveal() }
      : {}),
  });
  w.onShutdown(() => db.close());
  return db;
}

/** A PostgreSQL pool, ended at shutdown. */
export function postgresFor(w: Wiring, runtime: RuntimeConfig): PostgresPool {
  if (runtime.postgres === undefined)
    throw missing("postgres.url", "DATABASE_URL");
  const db = createPostgresPool({
    connectionString: runtime.postgres.url.reveal(),
  });
  w.onShutdown(() => db.end());
  return db;
}

/** `$SLUICE_STATE_DIR` (default `~/.local/state/sluice`). */
export function stateDir(): string {
  const v = process.env["SLUICE_STATE_DIR"];
  return v !== undefined && v !== ""
    ? v
    : join(homedir(), ".local", "state", "sluice");
}

/** Resolves when `signal` aborts (shutdown started). */
export function aborted(signal: AbortSignal): Promise<void> {
  return signal.aborted
    ? Promise.resolve()
    : new Promise((resolve) =>
        signal.addEventListener("abort", () => resolve(), { once: true }),
      );
}
