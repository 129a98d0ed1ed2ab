import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { BadRecordCounters } from "../operators/dead-letter.js";
import { DedupeCounters } from "../operators/dedupe.js";
import { CassandraMetrics } from "./cassandra/metrics.js";
import { KafkaSinkMetrics, KafkaSourceMetrics } from "./kafka/metrics.js";
import { MemcachedMetrics } from "./memcached/metrics.js";
import {
  METRIC_NAMES,
  exportConnectors,
  registerConnectorMetrics,
} from "./metrics.js";
import { PostgresMetrics } from "./postgres/metrics.js";

describe("registerConnectorMetrics", () => {
  it("exposes the connectors' counters with their current values at every scrape", async () => {
    const registry = new Registry();
    const source = new KafkaSourceMetrics();
    const sink = new KafkaSinkMetrics();
    const pg = new PostgresMetrics();
    const cql = new CassandraMetrics();
    const mc = new MemcachedMetrics();
    const dedupe = new DedupeCounters();
    const bad = new BadRecordCounters();
    let memoryIn = 0;
    const lag = [{ topic: "orders", partition: 2, lag: 17 }];
    registerConnectorMetrics(registry, {
      kafkaSources: [{ name: "orders-in", metrics: source, lag: () => lag }],
      kafkaSinks: [{ name: "totals-out", metrics: sink }],
      postgres: [{ name: "pg-reviews", metrics: pg }],
      cassandra: [{ name: "cql-reviews", metrics: cql }],
      memcached: [{ name: "dedupe-cache", metrics: mc }],
      counting: [
        { connector: "memory", name: "mem-in", recordsIn: () => memoryIn },
      ],
      dedupe: [{ name: "reviews-dedupe", counters: dedupe }],
      deadLetters: [{ name: "reviews-dlq", counters: bad }],
    });

    const first = await registry.metrics();
    expect(first).toContain(
      `${METRIC_NAMES.recordsIn}{connector="kafka",name="orders-in"} 0`,
    );

    source.recordsIn = 42;
    source.decodeErrors = 3;
    source.deadLettered = 2;
    source.commits = 5;
    sink.recordsOut = 40;
    pg.rowsWritten = 7;
    pg.retries = 1;
    cql.rowsWritten = 9;
    cql.errors = 2;
    mc.reads = 11;
    mc.authoritative = 4;
    memoryIn = 13;
    dedupe.hits = 6;
    dedupe.claimed = 30;
    bad.deadLettered = 8;
    bad.byCode.set("DECODE", 8);
    lag[0] = { topic: "orders", partition: 2, lag: 3 };

    const text = await registry.metrics();
    for (const line of [
      'sluice_records_in_total{connector="kafka",name="orders-in"} 42',
      'sluice_records_in_total{connector="memory",name="mem-in"} 13',
      'sluice_records_out_total{connector="kafka",name="totals-out"} 40',
      'sluice_records_out_total{connector="postgres",name="pg-reviews"} 7',
      'sluice_records_out_total{connector="cassandra",name="cql-reviews"} 9',
      'sluice_errors_total{connector="kafka",name="orders-in",kind="decode",code=""} 3',
      'sluice_errors_total{connector="cassandra",name="cql-reviews",kind="write",code=""} 2',
      'sluice_errors_total{connector="dead-letter",name="reviews-dlq",kind="bad-record",code="DECODE"} 8',
      'sluice_retries_total{connector="postgres",name="pg-reviews"} 1',
      'sluice_store_calls_total{connector="memcached",name="dedupe-cache",op="read"} 11',
      'sluice_store_calls_total{connector="memcached",name="dedupe-cache",op="authoritative"} 4',
      'sluice_commits_total{connector="kafka",name="orders-in"} 5',
      'sluice_consumer_lag{name="orders-in",topic="orders",partition="2"} 3',
      'sluice_dedupe_total{name="reviews-dedupe",outcome="hit"} 6',
      'sluice_dedupe_total{name="reviews-dedupe",outcome="claimed"} 30',
      'sluice_bad_records_total{connector="dead-letter",name="reviews-dlq",fate="dead_lettered"} 8',
      'sluice_bad_records_total{connector="kafka",name="orders-in",fate="dead_lettered"} 2',
    ])
      expect(text).toContain(line);
    expect(text).toContain("# TYPE sluice_consumer_lag gauge");
    expect(text).toContain("# TYPE sluice_records_in_total counter");
  });

  it("reports nothing for a connector list that is empty", async () => {
    const registry = new Registry();
    registerConnectorMetrics(registry, {});
    const text = await registry.metrics();
    expect(text).not.toMatch(/^sluice_records_in_total\{/m);
  });
});

describe("exportConnectors", () => {
  it("exports what it is handed after registration, by metrics class, with the source's lag", async () => {
    const registry = new Registry();
    const exported = exportConnectors(registry);
    const inMetrics = new KafkaSourceMetrics();
    inMetrics.recordsIn = 5;
    exported.source({
      name: "src",
      metrics: inMetrics,
      lag: () => [{ topic: "t", partition: 0, lag: 9 }],
    } as { name: string });
    exported.source({ name: "plain" }); // no Kafka metrics: ignored
    const pg = new PostgresMetrics();
    pg.rowsWritten = 3;
    exported.sink({ name: "rows", metrics: pg } as { name: string });
    const text = await registry.metrics();
    expect(text).toContain(
      'sluice_records_in_total{connector="kafka",name="src"} 5',
    );
    expect(text).toContain(
      'sluice_consumer_lag{name="src",topic="t",partition="0"} 9',
    );
    expect(text).toContain(
      'sluice_records_out_total{connector="postgres",name="rows"} 3',
    );
    expect(text).not.toContain('name="plain"');
  });
});
