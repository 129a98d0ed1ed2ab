import { beforeAll } from "vitest";
import { requireServices } from "../../stack/index.js";
import { sourceConformance } from "../testing/conformance.js";
import { intakeConformance } from "../testing/intake-conformance.js";
import { sinkConformance } from "../testing/sink-conformance.js";
import { kafkaSinkHarness, kafkaSourceHarness } from "./testing.js";

let brokers: readonly string[] = [];
beforeAll(async () => {
  brokers = (await requireServices(["kafka"])).kafkaBrokers;
});

for (const client of ["kafkajs", "confluent"] as const) {
  sourceConformance(
    `kafka (${client})`,
    () => kafkaSourceHarness(brokers, client),
    {
      timeoutMs: 30_000,
      // kafkajs rejoins without waiting for the revoke drain (see clients/kafkajs.ts);
      // confluent awaits our rebalance callback before it releases the partitions.
      revokeHandover:
        client === "kafkajs" ? "at-least-once" : "commit-before-release",
    },
  );
  intakeConformance(
    `kafka (${client})`,
    () => kafkaSourceHarness(brokers, client),
    { timeoutMs: 30_000 },
  );
  sinkConformance(
    `kafka (${client})`,
    () => kafkaSinkHarness(brokers, client),
    {
      timeoutMs: 30_000,
    },
  );
}
