// Public exports of the PostgreSQL connector, listed one by one (STYLE.md habit 8).
export { createPostgresPool, inTransaction } from "./pool.js";
export type { PostgresPool } from "./pool.js";
export { migratePostgres } from "./migrate.js";
export type { MigrateOptions, MigrationResult } from "./migrate.js";
export { PostgresSink, postgresSink } from "./sink.js";
export { postgresCheckpointStore } from "./checkpoint-store.js";
export type {
  PostgresCheckpointStore,
  PostgresCheckpointStoreOptions,
} from "./checkpoint-store.js";
export { postgresDeadLetters } from "./dead-letters.js";
export type { DeadLetterRow } from "./dead-letters.js";
export { PostgresMetrics } from "./metrics.js";
export {
  IDENTIFIER,
  resolvePostgresOptions,
  resolvePostgresSinkOptions,
} from "./options.js";
export type {
  PostgresOptions,
  PostgresSinkOptions,
  ResolvedPostgresOptions,
  ResolvedPostgresSinkOptions,
  Row,
} from "./options.js";
export {
  classifyPostgresError,
  SOCKET_CODES,
  SQLSTATE_CLASSES,
  SQLSTATES,
  toPostgresError,
} from "./classify.js";
export type { Classification } from "./classify.js";
export { closedError, rowError } from "./errors.js";
export { quoteIdent, sqlDirectory, upsertStatement } from "./sql.js";
export type {
  CheckpointPiece,
  CheckpointStore,
  StoredCheckpoint,
} from "../checkpoint-store.js";
