/**
 * Counters of a Cassandra sink or store; the runtime exports them.
 *
 * @example
 * ```ts
 * sink.metrics.rowsWritten;
 * ```
 */
export class CassandraMetrics {
  /** Rows (or dedupe/checkpoint writes) acknowledged by Cassandra. */
  rowsWritten = 0;
  /** Batches written. */
  batches = 0;
  /** Calls that failed for good. */
  errors = 0;
  /** Batches tried again after a retryable error. */
  retries = 0;
}
