import type { Endpoints } from "../stack/index.js";
import { cassandraSuite, postgresSuite } from "./connectors-db.js";
import { kafkaConsumeSuite, kafkaProduceSuite } from "./connectors-kafka.js";
import type { Suite } from "./harness.js";

/** Sizes of the connector benchmark (`--scale` multiplies `records` and `rows`). */
export interface ConnectorBenchOptions {
  /** Kafka records per run, produce and consume. */
  readonly records: number;
  /** Database rows per run. */
  readonly rows: number;
  /** Encoded Avro value size (the confluent perf harness uses 256 B). */
  readonly valueBytes: number;
  /** Records per produced batch and per sink write. */
  readonly batch: number;
  /** Rows per write of the large-batch PostgreSQL workload. */
  readonly largeBatch: number;
  /** Produce batches in flight, the same for every producer. */
  readonly inFlight: number;
  /** Partitions of the bench topics (3, as the confluent harness). */
  readonly partitions: number;
}

export const defaultConnectorBench: ConnectorBenchOptions = {
  records: 100_000,
  rows: 20_000,
  valueBytes: 256,
  batch: 100,
  largeBatch: 5_000,
  inFlight: 8,
  partitions: 3,
};

/**
 * The connector benchmark of the "Connectors and Avro" issue, as four suites run one after
 * the other against the local services, each with its own same-run baseline:
 * - `connectors-produce`: bare kafkajs producer (baseline), Sluice's kafkaSink over kafkajs
 *   and confluent, the bare confluent producer and the memory sink;
 * - `connectors-consume`: bare kafkajs eachBatch loop (baseline), Sluice's kafkaSource over
 *   kafkajs and confluent, the bare confluent loop and the memory source;
 * - `connectors-postgres`: COPY (baseline), a plain pg upsert loop, postgresSink;
 * - `connectors-cassandra`: the driver's executeConcurrent (baseline), cassandraSink.
 * Every suite creates its own topic, schema or keyspace and removes it at the end.
 */
export function connectorSuites(
  env: Endpoints,
  o: ConnectorBenchOptions = defaultConnectorBench,
): Suite[] {
  const kafka = {
    brokers: env.kafkaBrokers,
    records: o.records,
    valueBytes: o.valueBytes,
    batch: o.batch,
    inFlight: o.inFlight,
    partitions: o.partitions,
    keys: 1_000,
  };
  const db = {
    databaseUrl: env.databaseUrl,
    cassandraContactPoints: env.cassandraContactPoints,
    cassandraLocalDc: env.cassandraLocalDc,
    rows: o.rows,
    batch: o.batch,
    largeBatch: o.largeBatch,
  };
  return [
    kafkaProduceSuite(kafka),
    kafkaConsumeSuite(kafka),
    postgresSuite(db),
    cassandraSuite(db),
  ];
}
