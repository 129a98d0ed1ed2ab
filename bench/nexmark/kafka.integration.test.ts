import { describe, expect, it } from "vitest";
import { requireServices } from "../../stack/index.js";
import type { GeneratorOptions } from "./generator.js";
import { defaultGeneratorOptions } from "./generator.js";
import { dropKafka, fillNexmarkTopic, runKafkaQuery, unique } from "./kafka.js";
import { QUERIES } from "./suite.js";

// `sluice bench nexmark-kafka` on a small input: the generator writes the events to a topic,
// then each query reads it with Sluice's Kafka source and must give the hand-written loop's
// rows (q4, a changelog, its last average per category), every input acknowledged.
const EVENTS = 30_000;
const OPTIONS: GeneratorOptions = {
  ...defaultGeneratorOptions,
  seed: 5,
  eventsPerSec: 3_000,
};
const canonical = (rows: readonly unknown[]): string[] =>
  rows.map((r) => JSON.stringify(r)).sort();

describe("Nexmark from a Kafka topic", () => {
  it("gives every query the loop's rows when read with the Kafka source", async () => {
    const env = await requireServices(["kafka"]);
    const topic = `nexmark-it-${unique()}`;
    const groups: string[] = [];
    try {
      const filled = await fillNexmarkTopic(env.kafkaBrokers, topic, EVENTS, {
        generator: OPTIONS,
      });
      expect(filled.bids).toBe(EVENTS - EVENTS / 50 - (3 * EVENTS) / 50);
      for (const q of QUERIES) {
        const expected: unknown[] = [];
        q.loop(EVENTS, OPTIONS, (r) => expected.push(r));
        const group = `nexmark-it-${q.name}-${unique()}`;
        groups.push(group);
        const run = await runKafkaQuery(q.sluice(), {
          brokers: env.kafkaBrokers,
          topic,
          events: EVENTS,
          group,
          collect: true,
        });
        expect(expected.length, q.name).toBeGreaterThan(0);
        if (q.sameCount === false) {
          const last = new Map<number, unknown>();
          for (const r of run.rows as { category: number }[])
            last.set(r.category, r);
          expect(canonical([...last.values()]), q.name).toEqual(
            canonical(expected),
          );
        } else expect(canonical(run.rows), q.name).toEqual(canonical(expected));
      }
    } finally {
      await dropKafka(env.kafkaBrokers, [topic], groups);
    }
  }, 180_000);
});
