import cassandra from "cassandra-driver";
import { toCassandraError } from "./classify.js";
import { cqlFile } from "./cql.js";
import { resolveCassandraOptions } from "./options.js";
import type { CassandraOptions, ResolvedCassandraOptions } from "./options.js";

/** A connected-on-demand cassandra-driver client with the options it was made from. */
export interface CassandraClient {
  readonly client: cassandra.Client;
  readonly options: ResolvedCassandraOptions;
  /** Connects (idempotent). */
  connect(): Promise<void>;
  /** Shuts the client down; idempotent. */
  close(): Promise<void>;
}

/**
 * Creates the driver client every Cassandra piece of Sluice shares: token-aware routing in
 * the local datacenter, LOCAL_QUORUM writes and LOCAL_SERIAL for lightweight transactions.
 *
 * @example
 * ```ts
 * const db = createCassandraClient({ contactPoints: ["127.0.0.1:9042"], localDataCenter: "datacenter1", keyspace: "sluice" });
 * await applyCassandraSchema(db);
 * ```
 */
export function createCassandraClient(
  options: CassandraOptions,
): CassandraClient {
  const o = resolveCassandraOptions(options);
  const client = new cassandra.Client({
    contactPoints: [...o.contactPoints],
    localDataCenter: o.localDataCenter,
    socketOptions: { readTimeout: o.requestTimeoutMs },
    queryOptions: {
      consistency: cassandra.types.consistencies.localQuorum,
      serialConsistency: cassandra.types.consistencies.localSerial,
      prepare: true,
    },
    ...(o.username !== undefined && o.password !== undefined
      ? { credentials: { username: o.username, password: o.password } }
      : {}),
  });
  let connected: Promise<void> | undefined;
  let closed: Promise<void> | undefined;
  return {
    client,
    options: o,
    connect: () =>
      (connected ??= client.connect().catch((error: unknown) => {
        connected = undefined;
        throw toCassandraError(error, "cassandra connect");
      })),
    close: () => (closed ??= client.shutdown()),
  };
}

/** The schema files applied by {@link applyCassandraSchema}, in order. */
export const SCHEMA_FILES = [
  "create-keyspace",
  "create-dedupe",
  "create-checkpoints",
  // Tables made before checkpoint fencing (Cassandra 5.0 takes IF NOT EXISTS here).
  "add-checkpoint-epoch",
] as const;

/**
 * Creates the keyspace and the runtime's tables (dedupe, checkpoints) from `cql/*.cql` with
 * `IF NOT EXISTS`, the keyspace taken from config: safe to run at every start.
 *
 * @example
 * ```ts
 * await applyCassandraSchema(db); // a second call changes nothing
 * ```
 */
export async function applyCassandraSchema(db: CassandraClient): Promise<void> {
  await db.connect();
  const names = {
    keyspace: db.options.keyspace,
    replication: db.options.replication,
  };
  for (const file of SCHEMA_FILES) {
    try {
      await db.client.execute(cqlFile(file, names), [], { prepare: false });
    } catch (error) {
      throw toCassandraError(error, `cassandra schema ${file}.cql`);
    }
  }
}
