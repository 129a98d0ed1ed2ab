import { describe, expect, it } from "vitest";
import { requireServices } from "../../stack/index.js";
import { runKafkaQuery } from "../nexmark/kafka.js";
import { defaultGeneratorOptions } from "../nexmark/generator.js";
import { comparableRows, PEER_QUERIES, PeerBench } from "./suite.js";

// `sluice bench peers` on a small input: Kafka Streams (the real Java peer, built with Maven
// on first use) and Sluice read the same topic and must print the same rows for every
// window both closed. 30 k events at 1 k events/s: 30 s of event time, two 10 s tumbling
// windows and over a dozen q5 hops close. Speed is never asserted here.
describe("the Kafka Streams peer against Sluice", () => {
  it("agrees with Sluice row for row on the windowed count, q5 and q7", async () => {
    const env = await requireServices(["kafka"]);
    const bench = new PeerBench({
      brokers: env.kafkaBrokers,
      events: 30_000,
      generator: { ...defaultGeneratorOptions, seed: 11, eventsPerSec: 1_000 },
    });
    try {
      await bench.setup();
      const last = bench.filled!.lastTimestamp;
      for (const q of PEER_QUERIES) {
        const peer = await bench.runPeer(q.name, true);
        const sluice = await runKafkaQuery(q.sluice(), {
          brokers: env.kafkaBrokers,
          topic: bench.topic,
          events: bench.filled!.events,
          group: bench.group(q.name),
          collect: true,
        });
        const expected = comparableRows(
          q.name,
          sluice.rows.map((r) => q.asPeerRow(r as never)),
          last,
        );
        expect(expected.length, q.name).toBeGreaterThan(0);
        expect(comparableRows(q.name, peer.rows, last), q.name).toEqual(
          expected,
        );
      }
    } finally {
      await bench.teardown();
    }
  }, 240_000);
});
