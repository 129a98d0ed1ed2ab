import { Counter, Gauge, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { METRIC_NAMES } from "../connectors/metrics.js";
import { LATE_RECORDS_METRIC, snapshotMetrics } from "./job-stats.js";

describe("snapshotMetrics", () => {
  it("sums each metric over its labels, counting only dead-lettered bad records and dedupe hits", async () => {
    const registry = new Registry();
    const c = (name: string, labelNames: string[]) =>
      new Counter({ name, help: name, labelNames, registers: [registry] });
    c(METRIC_NAMES.recordsIn, ["connector", "name"]).inc(
      { connector: "kafka", name: "a" },
      7,
    );
    c(METRIC_NAMES.recordsOut, ["connector", "name"]).inc(
      { connector: "postgres", name: "b" },
      5,
    );
    const bad = c(METRIC_NAMES.badRecords, ["connector", "name", "fate"]);
    bad.inc({ connector: "dead-letter", name: "x", fate: "dead_lettered" }, 3);
    bad.inc({ connector: "kafka", name: "y", fate: "dead_lettered" }, 1);
    bad.inc({ connector: "dead-letter", name: "x", fate: "skipped" }, 9);
    const dedupe = c(METRIC_NAMES.dedupe, ["name", "outcome"]);
    dedupe.inc({ name: "d", outcome: "hit" }, 4);
    dedupe.inc({ name: "d", outcome: "claimed" }, 40);
    c(LATE_RECORDS_METRIC, []).inc(2);
    const lag = new Gauge({
      name: METRIC_NAMES.consumerLag,
      help: "lag",
      labelNames: ["name", "topic", "partition"],
      registers: [registry],
    });
    lag.set({ name: "a", topic: "t", partition: "0" }, 10);
    lag.set({ name: "a", topic: "t", partition: "1" }, 15);
    expect(await snapshotMetrics(registry)).toEqual({
      recordsIn: 7,
      recordsOut: 5,
      consumerLag: 25,
      deadLetters: 4,
      dedupeHits: 4,
      lateRecords: 2,
    });
  });

  it("reads zeros from a job that registers none of the metrics", async () => {
    expect(await snapshotMetrics(new Registry())).toEqual({
      recordsIn: 0,
      recordsOut: 0,
      consumerLag: 0,
      deadLetters: 0,
      dedupeHits: 0,
      lateRecords: 0,
    });
  });
});
