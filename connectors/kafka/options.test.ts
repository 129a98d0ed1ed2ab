import { describe, expect, it } from "vitest";
import { SluiceError } from "../../operators/sluice-error.js";
import {
  resolveKafkaSinkOptions,
  resolveKafkaSourceOptions,
} from "./options.js";
import type { KafkaSourceOptions } from "./options.js";

const decode = (b: Buffer): string => b.toString();
const base: KafkaSourceOptions<string> = {
  brokers: ["127.0.0.1:9092"],
  group: "g",
  topics: ["t"],
  decode,
  deadLetterTopic: "t.dlq",
};

const configError = (f: () => unknown): SluiceError => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(SluiceError);
    expect((e as SluiceError).code).toBe("CONFIG");
    return e as SluiceError;
  }
  throw new Error("expected a CONFIG error");
};

describe("resolveKafkaSourceOptions", () => {
  it("applies every default once", () => {
    const o = resolveKafkaSourceOptions(base);
    expect(o).toMatchObject({
      client: "kafkajs",
      clientId: "sluice",
      name: "kafka:g",
      maxInFlight: 1000,
      lowWatermark: 500,
      commitIntervalMs: 1000,
      drainTimeoutMs: 5000,
      startFrom: "earliest",
      onDecodeError: "dead-letter",
      deadLetterTopic: "t.dlq",
    });
    expect(o.decode).toBe(decode);
  });

  it("fetches 8 MiB per partition and 32 MiB per fetch on kafkajs, and leaves librdkafka's defaults unless set", () => {
    expect(resolveKafkaSourceOptions(base)).toMatchObject({
      maxBytesPerPartition: 8 * 1024 * 1024,
      maxBytes: 32 * 1024 * 1024,
    });
    const confluent = resolveKafkaSourceOptions({
      ...base,
      client: "confluent",
    });
    expect(confluent.maxBytesPerPartition).toBeUndefined();
    expect(confluent.maxBytes).toBeUndefined();
    expect(
      resolveKafkaSourceOptions({
        ...base,
        client: "confluent",
        maxBytesPerPartition: 1 << 20,
        maxBytes: 4 << 20,
      }),
    ).toMatchObject({ maxBytesPerPartition: 1 << 20, maxBytes: 4 << 20 });
    const e = configError(() =>
      resolveKafkaSourceOptions({ ...base, maxBytesPerPartition: 0.5 }),
    );
    expect(e.context.field).toBe("maxBytesPerPartition");
  });

  it("names the field when maxInFlight is below 1", () => {
    const e = configError(() =>
      resolveKafkaSourceOptions({ ...base, maxInFlight: 0 }),
    );
    expect(e.message).toBe("kafka.source.maxInFlight must be ≥ 1");
    expect(e.context.field).toBe("maxInFlight");
  });

  it("accepts maxInFlightPerPartition, capped at maxInFlight, and names it when below 1", () => {
    expect(resolveKafkaSourceOptions(base).maxInFlightPerPartition).toBe(1000);
    expect(
      resolveKafkaSourceOptions({ ...base, maxInFlightPerPartition: 50 })
        .maxInFlightPerPartition,
    ).toBe(50);
    expect(
      resolveKafkaSourceOptions({
        ...base,
        maxInFlight: 10,
        maxInFlightPerPartition: 50,
      }).maxInFlightPerPartition,
    ).toBe(10);
    const e = configError(() =>
      resolveKafkaSourceOptions({ ...base, maxInFlightPerPartition: 0 }),
    );
    expect(e.message).toBe("kafka.source.maxInFlightPerPartition must be ≥ 1");
  });

  it("refuses a low watermark at or above maxInFlight", () => {
    const e = configError(() =>
      resolveKafkaSourceOptions({ ...base, maxInFlight: 10, lowWatermark: 10 }),
    );
    expect(e.message).toMatch(
      /^kafka\.source\.lowWatermark must be less than maxInFlight/,
    );
  });

  it("refuses a session timeout not above the heartbeat interval", () => {
    const e = configError(() =>
      resolveKafkaSourceOptions({
        ...base,
        sessionTimeoutMs: 1000,
        heartbeatIntervalMs: 1000,
      }),
    );
    expect(e.message).toMatch(
      /^kafka\.source\.sessionTimeoutMs must be greater than heartbeatIntervalMs/,
    );
  });

  it("requires a dead-letter topic with the dead-letter policy, and not with skip", () => {
    const { deadLetterTopic: _, ...noTopic } = base;
    const e = configError(() => resolveKafkaSourceOptions(noTopic));
    expect(e.context.field).toBe("deadLetterTopic");
    expect(
      resolveKafkaSourceOptions({ ...noTopic, onDecodeError: "skip" })
        .onDecodeError,
    ).toBe("skip");
  });

  it("names broker, topic and unknown-option errors by field", () => {
    expect(
      configError(() =>
        resolveKafkaSourceOptions({ ...base, brokers: ["nohost"] }),
      ).message,
    ).toBe("kafka.source.brokers.0 must be host:port");
    expect(
      configError(() => resolveKafkaSourceOptions({ ...base, topics: [] }))
        .message,
    ).toBe("kafka.source.topics must name at least one topic");
    expect(
      configError(() =>
        resolveKafkaSourceOptions({
          ...base,
          autoCommit: true,
        } as KafkaSourceOptions<string>),
      ).message,
    ).toMatch(/^kafka\.source\./);
  });

  it("refuses a decode that is not a function", () => {
    const e = configError(() =>
      resolveKafkaSourceOptions({
        ...base,
        decode: "utf8",
      } as unknown as KafkaSourceOptions<string>),
    );
    expect(e.message).toBe("kafka.source.decode must be a function");
  });
});

describe("resolveKafkaSinkOptions", () => {
  const encode = (s: string): Buffer => Buffer.from(s);

  it("defaults to an idempotent producer with one batch in flight", () => {
    expect(
      resolveKafkaSinkOptions({ brokers: ["b:9092"], topic: "out", encode }),
    ).toMatchObject({
      name: "kafka:out",
      idempotent: true,
      maxInFlight: 1,
      maxInFlightRequests: 5,
      client: "kafkajs",
    });
  });

  it("refuses more than 5 requests in flight with idempotence, naming the field", () => {
    const e = configError(() =>
      resolveKafkaSinkOptions({
        brokers: ["b:9092"],
        encode,
        maxInFlightRequests: 6,
      }),
    );
    expect(e.message).toBe(
      "kafka.sink.maxInFlightRequests must be ≤ 5 with an idempotent producer, got 6",
    );
  });

  it("refuses an unknown client", () => {
    const e = configError(() =>
      resolveKafkaSinkOptions({
        brokers: ["b:9092"],
        encode,
        client: "rdkafka" as "kafkajs",
      }),
    );
    expect(e.context.field).toBe("client");
  });
});
