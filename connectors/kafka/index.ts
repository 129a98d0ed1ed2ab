// Public exports of the Kafka connector, listed one by one (STYLE.md habit 8). No driver
// type leaves this folder: options name the driver as `client: "kafkajs" | "confluent"`.
export { KafkaSource, kafkaSource } from "./source.js";
export { KafkaSink, kafkaSink } from "./sink.js";
export { KafkaAdmin, kafkaAdmin } from "./admin.js";
export type { KafkaTopicSpec, PartitionLag } from "./admin.js";
export {
  KAFKAJS_FETCH_DEFAULTS,
  resolveKafkaSinkOptions,
  resolveKafkaSourceOptions,
} from "./options.js";
export type {
  DecodeErrorPolicy,
  KafkaConnectionOptions,
  KafkaSinkOptions,
  KafkaSourceOptions,
  ResolvedKafkaSinkOptions,
  ResolvedKafkaSourceOptions,
} from "./options.js";
export type { KafkaClientKind } from "./client.js";
export { classifyKafkaError, toKafkaError } from "./classify.js";
export type { Classification } from "./classify.js";
export {
  DEAD_LETTER_HEADERS,
  closedError,
  decodeError,
  missingTopic,
} from "./errors.js";
export { KafkaSinkMetrics, KafkaSourceMetrics } from "./metrics.js";
