/**
 * Counters of a memcached store; the runtime exports them.
 *
 * @example
 * ```ts
 * store.metrics.writes; // add/set/delete calls answered by a server
 * ```
 */
export class MemcachedMetrics {
  /** add/set/delete calls answered by a server (replica copies included). */
  writes = 0;
  /** get calls answered by a server. */
  reads = 0;
  /** Calls that failed (a replica down counts here even when another answered). */
  errors = 0;
  /** Calls sent to the next replica after one failed. */
  retries = 0;
  /** Claims decided by the authoritative store (memcached miss or outage). */
  authoritative = 0;
}
