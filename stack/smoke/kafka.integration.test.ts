import confluent from "@confluentinc/kafka-javascript";
import kafkajs from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requireServices } from "../index.js";
import type { Endpoints } from "../index.js";
import { uniqueName, waitFor } from "./wait.js";

let env: Endpoints;
const topics: string[] = [];
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  env = await requireServices(["kafka"]);
});

afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  if (topics.length === 0) return;
  const admin = new kafkajs.Kafka({
    clientId: "sluice-smoke-cleanup",
    brokers: [...env.kafkaBrokers],
    logLevel: kafkajs.logLevel.NOTHING,
  }).admin();
  await admin.connect();
  try {
    await admin.deleteTopics({ topics });
  } finally {
    await admin.disconnect();
  }
});

async function createTopic(prefix: string): Promise<string> {
  const topic = uniqueName(prefix).replaceAll("_", "-");
  const admin = new kafkajs.Kafka({
    clientId: "sluice-smoke-admin",
    brokers: [...env.kafkaBrokers],
    logLevel: kafkajs.logLevel.NOTHING,
  }).admin();
  await admin.connect();
  try {
    await admin.createTopics({
      topics: [{ topic, numPartitions: 1, replicationFactor: 1 }],
      waitForLeaders: true,
    });
    topics.push(topic);
  } finally {
    await admin.disconnect();
  }
  return topic;
}

describe("Kafka smoke", () => {
  it("produces and consumes one message with kafkajs", async () => {
    const topic = await createTopic("smoke-kafkajs");
    const kafka = new kafkajs.Kafka({
      clientId: "sluice-smoke-kafkajs",
      brokers: [...env.kafkaBrokers],
      logLevel: kafkajs.logLevel.WARN,
    });
    const producer = kafka.producer({
      createPartitioner: kafkajs.Partitioners.DefaultPartitioner,
    });
    const consumer = kafka.consumer({ groupId: `${topic}-group` });
    cleanups.push(
      () => producer.disconnect(),
      () => consumer.disconnect(),
    );

    await producer.connect();
    await producer.send({
      topic,
      messages: [{ key: "k1", value: "hello from kafkajs" }],
    });

    const received: { key: string; value: string }[] = [];
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachMessage: ({ message }) => {
        received.push({
          key: message.key?.toString("utf8") ?? "",
          value: message.value?.toString("utf8") ?? "",
        });
        return Promise.resolve();
      },
    });

    const first = await waitFor(
      "kafkajs to consume the message",
      () => received[0],
      60_000,
    );
    expect(first).toEqual({ key: "k1", value: "hello from kafkajs" });
  });

  it("produces and consumes one message with @confluentinc/kafka-javascript", async () => {
    const topic = await createTopic("smoke-confluent");
    const kafka = new confluent.KafkaJS.Kafka({
      kafkaJS: {
        clientId: "sluice-smoke-confluent",
        brokers: [...env.kafkaBrokers],
        logLevel: confluent.KafkaJS.logLevel.WARN,
      },
    });
    const producer = kafka.producer({ kafkaJS: { acks: -1 } });
    const consumer = kafka.consumer({
      kafkaJS: { groupId: `${topic}-group`, fromBeginning: true },
    });
    cleanups.push(
      () => producer.disconnect(),
      () => consumer.disconnect(),
    );

    await producer.connect();
    await producer.send({
      topic,
      messages: [{ key: "k2", value: "hello from librdkafka" }],
    });

    const received: { key: string; value: string }[] = [];
    await consumer.connect();
    await consumer.subscribe({ topics: [topic] });
    await consumer.run({
      eachMessage: ({ message }) => {
        received.push({
          key: message.key?.toString("utf8") ?? "",
          value: message.value?.toString("utf8") ?? "",
        });
        return Promise.resolve();
      },
    });

    const first = await waitFor(
      "@confluentinc/kafka-javascript to consume the message",
      () => received[0],
      60_000,
    );
    expect(first).toEqual({ key: "k2", value: "hello from librdkafka" });
  });
});
