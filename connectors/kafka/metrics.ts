/**
 * Counters of a Kafka source; the runtime exports them (prom-client wiring comes later).
 *
 * @example
 * ```ts
 * const source = kafkaSource(options);
 * setInterval(() => console.log(source.metrics.recordsIn), 10_000);
 * ```
 */
export class KafkaSourceMetrics {
  /** Records emitted, redeliveries included. */
  recordsIn = 0;
  /** Records emitted again after a nack. */
  redelivered = 0;
  /** Values `decode` rejected, whatever their fate. */
  decodeErrors = 0;
  /** Undecodable records written to the dead-letter topic. */
  deadLettered = 0;
  /** Undecodable records dropped by the `"skip"` policy. */
  skipped = 0;
  /** Successful offset commits. */
  commits = 0;
  /** Failed offset commits (retried by the next commit). */
  commitErrors = 0;
}

/**
 * Counters of a Kafka sink.
 *
 * @example
 * ```ts
 * sink.metrics.recordsOut; // records acknowledged by the brokers
 * ```
 */
export class KafkaSinkMetrics {
  /** Records acknowledged by the brokers. */
  recordsOut = 0;
  /** Batches written. */
  batches = 0;
  /** Failed writes. */
  errors = 0;
}
