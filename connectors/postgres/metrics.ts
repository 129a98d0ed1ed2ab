/**
 * Counters of a PostgreSQL sink or store; the runtime exports them.
 *
 * @example
 * ```ts
 * sink.metrics.rowsWritten; // rows sent in committed upserts
 * ```
 */
export class PostgresMetrics {
  /** Rows in committed statements (after collapsing duplicate keys within a batch). */
  rowsWritten = 0;
  /** Committed batches or checkpoint saves. */
  batches = 0;
  /** Calls that failed for good. */
  errors = 0;
  /** Attempts repeated after a retryable error. */
  retries = 0;
}
