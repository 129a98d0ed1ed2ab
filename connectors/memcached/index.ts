// Public exports of the memcached connector, listed one by one (STYLE.md habit 8).
export { memcachedDedupeStore } from "./dedupe-store.js";
export type { MemcachedDedupeStore } from "./dedupe-store.js";
export { MemcachedConnection } from "./protocol.js";
export type { Versioned } from "./protocol.js";
export { MemcachedMetrics } from "./metrics.js";
export { resolveMemcachedDedupeStoreOptions } from "./options.js";
export type {
  MemcachedDedupeStoreOptions,
  ResolvedMemcachedDedupeStoreOptions,
} from "./options.js";
export {
  classifyMemcachedFailure,
  SOCKET_CODES,
  STATUSES,
  toMemcachedError,
} from "./classify.js";
export type { Classification, MemcachedFailure } from "./classify.js";
export { closedError, foreignValue } from "./errors.js";
