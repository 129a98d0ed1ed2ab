// Public exports of the Cassandra connector, listed one by one (STYLE.md habit 8).
export {
  applyCassandraSchema,
  createCassandraClient,
  SCHEMA_FILES,
} from "./client.js";
export type { CassandraClient } from "./client.js";
export { CassandraSink, cassandraSink } from "./sink.js";
export { cassandraDedupeStore } from "./dedupe-store.js";
export type { CassandraDedupeStore } from "./dedupe-store.js";
export { cassandraCheckpointStore } from "./checkpoint-store.js";
export type { CassandraCheckpointStore } from "./checkpoint-store.js";
export { CassandraMetrics } from "./metrics.js";
export {
  IDENTIFIER,
  resolveCassandraOptions,
  resolveCassandraSinkOptions,
  ttlSeconds,
} from "./options.js";
export type {
  CassandraOptions,
  CassandraRow,
  CassandraSinkOptions,
  Replication,
  ResolvedCassandraOptions,
  ResolvedCassandraSinkOptions,
} from "./options.js";
export { cqlFile, cqlFrom, quoteCqlIdent, replicationCql } from "./cql.js";
export {
  classifyCassandraError,
  RESPONSE_CODES,
  toCassandraError,
} from "./classify.js";
export type { Classification } from "./classify.js";
export { closedError, rowError } from "./errors.js";
