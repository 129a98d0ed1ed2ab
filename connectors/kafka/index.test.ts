import { describe, expect, it } from "vitest";
import * as kafka from "./index.js";

describe("connectors/kafka index", () => {
  it("exports the source, sink, admin, options, classification, errors and metrics, and no driver type", () => {
    expect(Object.keys(kafka).sort()).toEqual(
      [
        "DEAD_LETTER_HEADERS",
        "KAFKAJS_FETCH_DEFAULTS",
        "KafkaAdmin",
        "KafkaSink",
        "KafkaSinkMetrics",
        "KafkaSource",
        "KafkaSourceMetrics",
        "classifyKafkaError",
        "closedError",
        "decodeError",
        "kafkaAdmin",
        "kafkaSink",
        "kafkaSource",
        "missingTopic",
        "resolveKafkaSinkOptions",
        "resolveKafkaSourceOptions",
        "toKafkaError",
      ].sort(),
    );
  });

  it("builds a source and a sink without touching the network until connect", () => {
    const source = kafka.kafkaSource<string>({
      brokers: ["127.0.0.1:1"],
      client: "confluent",
      group: "g",
      topics: ["t"],
      decode: (b) => b.toString(),
      onDecodeError: "skip",
    });
    const sink = kafka.kafkaSink<string>({
      brokers: ["127.0.0.1:1"],
      encode: (s) => Buffer.from(s),
    });
    expect(source.name).toBe("kafka:g");
    expect(source.inFlight).toBe(0);
    expect(sink.maxInFlight).toBe(1);
  });
});
