import type {
  ConnectionConfig,
  KafkaClient,
  KafkaClientKind,
} from "../client.js";
import { ConfluentClient } from "./confluent.js";
import { KafkaJsClient } from "./kafkajs.js";

/**
 * The driver chosen by `kind`, behind {@link KafkaClient}.
 * @internal
 */
export function createKafkaClient(
  kind: KafkaClientKind,
  config: ConnectionConfig,
): KafkaClient {
  return kind === "confluent"
    ? new ConfluentClient(config)
    : new KafkaJsClient(config);
}
