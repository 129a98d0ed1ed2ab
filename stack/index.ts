/**
 * `stack/`: real Kafka, Cassandra, PostgreSQL and memcached on loopback for integration tests,
 * the demo's `--stack local` mode and benchmarks. Imports nothing else of ours.
 */
export type {
  Endpoints,
  ServiceName,
  ServiceStatus,
  StackEvent,
} from "./types.js";
export { endpoints } from "./endpoints.js";
export { StackError } from "./errors.js";
export {
  logFiles,
  requireServices,
  stackDown,
  stackStatus,
  stackUp,
} from "./stack.js";
