import type { OutgoingRecord, Sink } from "../types.js";
import type { KafkaProducerClient, ProducedMessage } from "./client.js";
import { createKafkaClient } from "./clients/create.js";
import { toKafkaError } from "./classify.js";
import { retryUntilDeadline } from "../internal/retry.js";
import { closedError, missingTopic } from "./errors.js";
import { KafkaSinkMetrics } from "./metrics.js";
import { resolveKafkaSinkOptions } from "./options.js";
import type { KafkaSinkOptions, ResolvedKafkaSinkOptions } from "./options.js";

/**
 * The Kafka connector's sink: an idempotent producer with acks=all. Build it with
 * {@link kafkaSink}.
 */
export class KafkaSink<T> implements Sink<T> {
  readonly name: string;
  readonly maxInFlight: number;
  readonly metrics = new KafkaSinkMetrics();
  private readonly options: ResolvedKafkaSinkOptions<T>;
  private producer: KafkaProducerClient | undefined;
  private connecting: Promise<void> | undefined;
  private closing: Promise<void> | undefined;

  constructor(options: KafkaSinkOptions<T>) {
    this.options = resolveKafkaSinkOptions(options);
    this.name = this.options.name;
    this.maxInFlight = this.options.maxInFlight;
  }

  connect(): Promise<void> {
    if (this.closing !== undefined)
      return Promise.reject(closedError(this.name));
    this.connecting ??= this.open();
    return this.connecting;
  }

  /**
   * Writes the batch and resolves when the brokers acknowledged every record (acks=all).
   * Keyed records go to the partition of their key, in batch order.
   */
  async write(batch: readonly OutgoingRecord<T>[]): Promise<void> {
    if (this.closing !== undefined) throw closedError(this.name);
    if (batch.length === 0) return;
    const messages = batch.map((r): ProducedMessage => {
      const topic = r.topic ?? this.options.topic;
      if (topic === undefined) throw missingTopic(this.name);
      return {
        topic,
        key: r.key ?? null,
        value: this.options.encode(r.value),
        ...(r.headers !== undefined ? { headers: r.headers } : {}),
        ...(r.partition !== undefined ? { partition: r.partition } : {}),
        ...(r.timestamp !== undefined ? { timestamp: r.timestamp } : {}),
      };
    });
    await this.connect();
    const context = {
      stage: "sink" as const,
      ...(messages[0] !== undefined ? { topic: messages[0].topic } : {}),
    };
    // A broker restart is waited out (the idempotent producer keeps a resend from
    // duplicating within its session); past outageDeadlineMs the write fails.
    await retryUntilDeadline(
      async () => {
        if (this.closing !== undefined) throw closedError(this.name);
        await this.producer!.send(messages);
      },
      {
        what: `${this.name} write to ${this.options.brokers.join(",")}`,
        deadlineMs: this.options.outageDeadlineMs,
        toError: (error) => {
          this.metrics.errors += 1;
          return toKafkaError(error, `${this.name}: write failed`, context);
        },
      },
    );
    this.metrics.batches += 1;
    this.metrics.recordsOut += messages.length;
  }

  async flush(): Promise<void> {
    if (this.producer !== undefined) await this.producer.flush();
  }

  /** Idempotent; later writes reject with `CLOSED`. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async open(): Promise<void> {
    const o = this.options;
    const producer = createKafkaClient(o.client, o).producer({
      idempotent: o.idempotent,
      maxInFlightRequests: o.maxInFlightRequests,
      lingerMs: o.lingerMs,
      compression: o.compression,
    });
    this.producer = producer;
    try {
      await producer.connect();
    } catch (error) {
      throw toKafkaError(error, `${this.name}: cannot connect`, {
        stage: "sink",
      });
    }
  }

  private async shutdown(): Promise<void> {
    try {
      await this.connecting;
    } catch {
      return;
    }
    if (this.producer === undefined) return;
    try {
      await this.producer.flush();
    } finally {
      await this.producer.disconnect();
    }
  }
}

/**
 * A {@link Sink} that produces to Kafka with an idempotent producer and acks=all; records
 * without a topic go to `options.topic`, keys pick the partition (murmur2, as Java does).
 *
 * @example
 * ```ts
 * const sink = kafkaSink<Order>({ brokers: ["127.0.0.1:9092"], topic: "orders-billed", encode: (o) => codec.encode(o) });
 * await sink.write([{ key: "user-1", value: order }]);
 * await sink.close();
 * ```
 */
export function kafkaSink<T>(options: KafkaSinkOptions<T>): KafkaSink<T> {
  return new KafkaSink<T>(options);
}
