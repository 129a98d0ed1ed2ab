import { Counter, Gauge } from "prom-client";
import type { Registry } from "prom-client";
import type { BadRecordCounters } from "../operators/dead-letter.js";
import type { DedupeCounters } from "../operators/dedupe.js";
import { CassandraMetrics } from "./cassandra/metrics.js";
import { KafkaSinkMetrics, KafkaSourceMetrics } from "./kafka/metrics.js";
import type { MemcachedMetrics } from "./memcached/metrics.js";
import { PostgresMetrics } from "./postgres/metrics.js";

/** One Kafka partition's lag: records between the consumer's position and the log end. */
export interface PartitionLagSample {
  readonly topic: string;
  readonly partition: number;
  readonly lag: number;
}

/** What {@link registerConnectorMetrics} reads at scrape time; every list may be empty. */
export interface ConnectorMetricSources {
  readonly kafkaSources?: readonly {
    readonly name: string;
    readonly metrics: KafkaSourceMetrics;
    /** Lag per partition where the caller knows it (e.g. from `kafkaAdmin().lag`). */
    readonly lag?: () => readonly PartitionLagSample[];
  }[];
  readonly kafkaSinks?: readonly {
    readonly name: string;
    readonly metrics: KafkaSinkMetrics;
  }[];
  readonly postgres?: readonly {
    readonly name: string;
    readonly metrics: PostgresMetrics;
  }[];
  readonly cassandra?: readonly {
    readonly name: string;
    readonly metrics: CassandraMetrics;
  }[];
  readonly memcached?: readonly {
    readonly name: string;
    readonly metrics: MemcachedMetrics;
  }[];
  /** Sources that count only what they emit (memory): `recordsIn`. */
  readonly counting?: readonly {
    readonly connector: string;
    readonly name: string;
    readonly recordsIn: () => number;
  }[];
  readonly dedupe?: readonly {
    readonly name: string;
    readonly counters: DedupeCounters;
  }[];
  readonly deadLetters?: readonly {
    readonly name: string;
    readonly counters: BadRecordCounters;
  }[];
}

/** Metric names, so dashboards and tests name them once. */
export const METRIC_NAMES = {
  recordsIn: "sluice_records_in_total",
  recordsOut: "sluice_records_out_total",
  errors: "sluice_errors_total",
  retries: "sluice_retries_total",
  storeCalls: "sluice_store_calls_total",
  commits: "sluice_commits_total",
  redelivered: "sluice_redelivered_total",
  consumerLag: "sluice_consumer_lag",
  dedupe: "sluice_dedupe_total",
  badRecords: "sluice_bad_records_total",
} as const;

/**
 * Registers prom-client collectors on `registry` that read the connectors' plain counter
 * objects (and the dedupe and dead-letter counters of operators) at scrape time, so the hot
 * paths keep incrementing plain numbers. Counters are labelled `{connector, name}`; errors
 * also carry `kind` (the counter that counted them) and, for bad records, `code`.
 * Lag is a gauge `{name, topic, partition}` for sources that give a `lag` function.
 * Call it once per registry; the runtime serves `registry.metrics()` on `/metrics`.
 *
 * @example
 * ```ts
 * const registry = new Registry();
 * registerConnectorMetrics(registry, {
 *   kafkaSources: [{ name: source.name, metrics: source.metrics }],
 *   postgres: [{ name: sink.name, metrics: sink.metrics }],
 * });
 * const text = await registry.metrics(); // sluice_records_in_total{connector="kafka",name="…"} 42
 * ```
 */
export function registerConnectorMetrics(
  registry: Registry,
  sources: ConnectorMetricSources,
): void {
  const s = sources;
  const labelled = (labelNames: readonly string[]) => ({
    registers: [registry],
    labelNames,
  });
  const cn = ["connector", "name"] as const;

  new Counter({
    name: METRIC_NAMES.recordsIn,
    help: "Records read by a source (redeliveries included).",
    ...labelled(cn),
    collect() {
      this.reset();
      for (const k of s.kafkaSources ?? [])
        this.inc({ connector: "kafka", name: k.name }, k.metrics.recordsIn);
      for (const c of s.counting ?? [])
        this.inc({ connector: c.connector, name: c.name }, c.recordsIn());
    },
  });

  new Counter({
    name: METRIC_NAMES.recordsOut,
    help: "Records (rows) written by a sink and acknowledged by its service.",
    ...labelled(cn),
    collect() {
      this.reset();
      for (const k of s.kafkaSinks ?? [])
        this.inc({ connector: "kafka", name: k.name }, k.metrics.recordsOut);
      for (const p of s.postgres ?? [])
        this.inc(
          { connector: "postgres", name: p.name },
          p.metrics.rowsWritten,
        );
      for (const c of s.cassandra ?? [])
        this.inc(
          { connector: "cassandra", name: c.name },
          c.metrics.rowsWritten,
        );
    },
  });

  new Counter({
    name: METRIC_NAMES.storeCalls,
    help: "Calls of a store answered by its service (memcached: read, write; authoritative: claims decided by the fallback store).",
    ...labelled([...cn, "op"]),
    collect() {
      this.reset();
      for (const m of s.memcached ?? []) {
        const l = { connector: "memcached", name: m.name };
        this.inc({ ...l, op: "read" }, m.metrics.reads);
        this.inc({ ...l, op: "write" }, m.metrics.writes);
        this.inc({ ...l, op: "authoritative" }, m.metrics.authoritative);
      }
    },
  });

  new Counter({
    name: METRIC_NAMES.errors,
    help: "Failures counted by a connector or operator; `kind` says which counter, `code` the SluiceError code where known.",
    ...labelled([...cn, "kind", "code"]),
    collect() {
      this.reset();
      const add = (
        connector: string,
        name: string,
        kind: string,
        value: number,
        code = "",
      ): void => {
        this.inc({ connector, name, kind, code }, value);
      };
      for (const k of s.kafkaSources ?? []) {
        add("kafka", k.name, "decode", k.metrics.decodeErrors);
        add("kafka", k.name, "commit", k.metrics.commitErrors);
      }
      for (const k of s.kafkaSinks ?? [])
        add("kafka", k.name, "write", k.metrics.errors);
      for (const p of s.postgres ?? [])
        add("postgres", p.name, "write", p.metrics.errors);
      for (const c of s.cassandra ?? [])
        add("cassandra", c.name, "write", c.metrics.errors);
      for (const m of s.memcached ?? [])
        add("memcached", m.name, "call", m.metrics.errors);
      for (const d of s.dedupe ?? []) {
        add("dedupe", d.name, "store", d.counters.errors);
        add("dedupe", d.name, "settle", d.counters.settleErrors);
      }
      for (const b of s.deadLetters ?? [])
        for (const [code, n] of b.counters.byCode)
          add("dead-letter", b.name, "bad-record", n, code);
    },
  });

  new Counter({
    name: METRIC_NAMES.retries,
    help: "Calls tried again after a retryable error.",
    ...labelled(cn),
    collect() {
      this.reset();
      for (const p of s.postgres ?? [])
        this.inc({ connector: "postgres", name: p.name }, p.metrics.retries);
      for (const c of s.cassandra ?? [])
        this.inc({ connector: "cassandra", name: c.name }, c.metrics.retries);
      for (const m of s.memcached ?? [])
        this.inc({ connector: "memcached", name: m.name }, m.metrics.retries);
    },
  });

  new Counter({
    name: METRIC_NAMES.commits,
    help: "Successful offset commits of a source.",
    ...labelled(cn),
    collect() {
      this.reset();
      for (const k of s.kafkaSources ?? [])
        this.inc({ connector: "kafka", name: k.name }, k.metrics.commits);
    },
  });

  new Counter({
    name: METRIC_NAMES.redelivered,
    help: "Records emitted again after a nack.",
    ...labelled(cn),
    collect() {
      this.reset();
      for (const k of s.kafkaSources ?? [])
        this.inc({ connector: "kafka", name: k.name }, k.metrics.redelivered);
    },
  });

  new Gauge({
    name: METRIC_NAMES.consumerLag,
    help: "Records between a source's position and the partition's end.",
    ...labelled(["name", "topic", "partition"]),
    collect() {
      this.reset();
      for (const k of s.kafkaSources ?? [])
        for (const l of k.lag?.() ?? [])
          this.set(
            { name: k.name, topic: l.topic, partition: String(l.partition) },
            l.lag,
          );
    },
  });

  new Counter({
    name: METRIC_NAMES.dedupe,
    help: "Dedupe outcomes: hit (duplicate dropped), near_hit, claimed, confirmed, released.",
    ...labelled(["name", "outcome"]),
    collect() {
      this.reset();
      for (const d of s.dedupe ?? []) {
        const c = d.counters;
        this.inc({ name: d.name, outcome: "hit" }, c.hits);
        this.inc({ name: d.name, outcome: "near_hit" }, c.nearHits);
        this.inc({ name: d.name, outcome: "claimed" }, c.claimed);
        this.inc({ name: d.name, outcome: "confirmed" }, c.confirmed);
        this.inc({ name: d.name, outcome: "released" }, c.released);
      }
    },
  });

  new Counter({
    name: METRIC_NAMES.badRecords,
    help: "Bad records by fate: dead_lettered, skipped, failed (Kafka decode failures included).",
    ...labelled(["connector", "name", "fate"]),
    collect() {
      this.reset();
      for (const b of s.deadLetters ?? []) {
        const c = b.counters;
        const l = { connector: "dead-letter", name: b.name };
        this.inc({ ...l, fate: "dead_lettered" }, c.deadLettered);
        this.inc({ ...l, fate: "skipped" }, c.skipped);
        this.inc({ ...l, fate: "failed" }, c.failed);
      }
      for (const k of s.kafkaSources ?? []) {
        const l = { connector: "kafka", name: k.name };
        this.inc({ ...l, fate: "dead_lettered" }, k.metrics.deadLettered);
        this.inc({ ...l, fate: "skipped" }, k.metrics.skipped);
      }
    },
  });
}

/** What {@link exportConnectors} returns: hand it sources, sinks and counters as they appear. */
export interface ConnectorExports {
  /** Exports a Kafka source's counters and lag (other sources are ignored). */
  source(source: { readonly name: string }): void;
  /** Exports a Kafka, PostgreSQL or Cassandra sink's counters (others are ignored). */
  sink(sink: { readonly name: string }): void;
  /** Exports operator counters: dedupe outcomes and bad records. */
  counters(c: {
    readonly dedupe?: readonly {
      readonly name: string;
      readonly counters: DedupeCounters;
    }[];
    readonly deadLetters?: readonly {
      readonly name: string;
      readonly counters: BadRecordCounters;
    }[];
  }): void;
}

/**
 * Registers the `sluice_*` collectors on `registry` once and exports whatever connectors are
 * handed to it later, recognised by their metrics class (the runtime's addSource/addSink and
 * one-process demos use the same path).
 *
 * @example
 * ```ts
 * const exports = exportConnectors(registry);
 * exports.source(kafkaSource(options)); // sluice_records_in_total, sluice_consumer_lag
 * ```
 */
export function exportConnectors(registry: Registry): ConnectorExports {
  const kafkaSources: {
    name: string;
    metrics: KafkaSourceMetrics;
    lag: () => readonly PartitionLagSample[];
  }[] = [];
  const kafkaSinks: { name: string; metrics: KafkaSinkMetrics }[] = [];
  const postgres: { name: string; metrics: PostgresMetrics }[] = [];
  const cassandra: { name: string; metrics: CassandraMetrics }[] = [];
  const dedupe: { name: string; counters: DedupeCounters }[] = [];
  const deadLetters: { name: string; counters: BadRecordCounters }[] = [];
  // The collectors read these lists at scrape time, so later pushes are exported too.
  registerConnectorMetrics(registry, {
    kafkaSources,
    kafkaSinks,
    postgres,
    cassandra,
    dedupe,
    deadLetters,
  });
  const metricsOf = (o: object): unknown =>
    (o as { metrics?: unknown }).metrics;
  return {
    source(source) {
      const m = metricsOf(source);
      if (!(m instanceof KafkaSourceMetrics)) return;
      const lag: unknown = (source as { lag?: unknown }).lag;
      kafkaSources.push({
        name: source.name,
        metrics: m,
        lag:
          typeof lag === "function"
            ? () => (lag as () => readonly PartitionLagSample[]).call(source)
            : () => [],
      });
    },
    sink(sink) {
      const m = metricsOf(sink);
      if (m instanceof KafkaSinkMetrics)
        kafkaSinks.push({ name: sink.name, metrics: m });
      else if (m instanceof PostgresMetrics)
        postgres.push({ name: sink.name, metrics: m });
      else if (m instanceof CassandraMetrics)
        cassandra.push({ name: sink.name, metrics: m });
    },
    counters(c) {
      dedupe.push(...(c.dedupe ?? []));
      deadLetters.push(...(c.deadLetters ?? []));
    },
  };
}
