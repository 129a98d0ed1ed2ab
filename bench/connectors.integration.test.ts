import { describe, expect, it } from "vitest";
import { requireServices } from "../stack/index.js";
import { connectorSuites, defaultConnectorBench } from "./connectors.js";
import { benchEvents } from "./connectors-kafka.js";

// Each workload of `sluice bench connectors` once, at a tiny scale, against the real
// services: a workload throws when a record is missing (consumers wait for every record,
// sinks count what writeTo wrote), so finishing is the check. Speed is never asserted.
describe("the connectors benchmark", () => {
  it("encodes its Kafka values to exactly the configured size", () => {
    const { codec, events } = benchEvents(50, 256);
    for (const e of events) expect(codec.encode(e).length).toBe(256);
    expect(codec.decode(codec.encode(events[7]!))).toEqual(events[7]);
  });

  it("runs every workload once at a tiny scale, each consuming or writing every record", async () => {
    const env = await requireServices(["kafka", "postgres", "cassandra"]);
    const suites = connectorSuites(env, {
      ...defaultConnectorBench,
      records: 2_000,
      rows: 500,
      largeBatch: 200,
    });
    expect(suites.map((s) => s.name)).toEqual([
      "connectors-produce",
      "connectors-consume",
      "connectors-postgres",
      "connectors-cassandra",
    ]);
    for (const suite of suites) {
      await suite.setup?.();
      try {
        for (const w of suite.workloads) {
          const timing = await w.run();
          expect(
            timing?.seconds ?? 1,
            `${suite.name}: ${w.name}`,
          ).toBeGreaterThan(0);
        }
      } finally {
        await suite.teardown?.();
      }
    }
  });
});
