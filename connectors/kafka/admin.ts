import type { KafkaAdminClient } from "./client.js";
import { createKafkaClient } from "./clients/create.js";
import { toKafkaError } from "./classify.js";
import { retryUntilDeadline } from "../internal/retry.js";
import { resolveKafkaSinkOptions } from "./options.js";
import type { KafkaConnectionOptions } from "./options.js";

/** A topic to create. */
export interface KafkaTopicSpec {
  readonly topic: string;
  readonly partitions: number;
  /** Default 1 (a single local broker). */
  readonly replicationFactor?: number;
  /** Topic configs, e.g. `{ "retention.ms": "86400000" }`. */
  readonly config?: { readonly [name: string]: string };
}

/** How far a group is behind on one partition. */
export interface PartitionLag {
  readonly topic: string;
  readonly partition: number;
  /** Next offset the group will read; `undefined` when it has committed nothing. */
  readonly committed: number | undefined;
  /** Next offset to be written. */
  readonly high: number;
  /** Records between the commit (or the log start) and the end. */
  readonly lag: number;
}

/**
 * Topic and group administration over either driver.
 *
 * @example
 * ```ts
 * const admin = kafkaAdmin({ brokers: ["127.0.0.1:9092"] });
 * await admin.createTopics([{ topic: "orders", partitions: 3 }]); // exists → ok
 * console.log(await admin.lag("billing", "orders"));
 * await admin.close();
 * ```
 */
export class KafkaAdmin {
  private readonly client: KafkaAdminClient;
  private readonly brokers: string;
  private readonly outageDeadlineMs: number;
  private connecting: Promise<void> | undefined;

  constructor(options: KafkaConnectionOptions) {
    // The connection part of the sink options is the shared connection schema.
    const o = resolveKafkaSinkOptions({
      ...options,
      encode: () => Buffer.alloc(0),
    });
    this.client = createKafkaClient(o.client, o).admin();
    this.brokers = o.brokers.join(",");
    this.outageDeadlineMs = o.outageDeadlineMs;
  }

  /** Creates the topics that do not exist; existing ones are left alone. */
  async createTopics(topics: readonly KafkaTopicSpec[]): Promise<void> {
    await this.run("createTopics", () =>
      this.client.createTopics(
        topics.map((t) => ({
          topic: t.topic,
          partitions: t.partitions,
          replicationFactor: t.replicationFactor ?? 1,
          config: t.config ?? {},
        })),
      ),
    );
  }

  /** Deletes the topics that exist. */
  async deleteTopics(topics: readonly string[]): Promise<void> {
    await this.run("deleteTopics", () => this.client.deleteTopics(topics));
  }

  /** Deletes consumer groups (they must have no members). */
  async deleteGroups(groups: readonly string[]): Promise<void> {
    await this.run("deleteGroups", () => this.client.deleteGroups(groups));
  }

  /** First and next offsets of each partition. */
  topicOffsets(
    topic: string,
  ): Promise<readonly { partition: number; low: number; high: number }[]> {
    return this.run("topicOffsets", () => this.client.topicOffsets(topic));
  }

  /** The group's committed offset, end offset and lag per partition of `topic`. */
  async lag(group: string, topic: string): Promise<readonly PartitionLag[]> {
    const [ends, committed] = await Promise.all([
      this.topicOffsets(topic),
      this.run("groupOffsets", () => this.client.groupOffsets(group, topic)),
    ]);
    return ends.map((e) => {
      const c = committed.find((x) => x.partition === e.partition)?.offset;
      return {
        topic,
        partition: e.partition,
        committed: c,
        high: e.high,
        lag: e.high - (c ?? e.low),
      };
    });
  }

  async close(): Promise<void> {
    if (this.connecting === undefined) return;
    this.connecting = undefined;
    await this.client.disconnect();
  }

  /**
   * Runs one admin call, connecting first; a retryable failure (a broker restarting, `The
   * coordinator is loading`) is retried with backoff until `outageDeadlineMs`.
   */
  private run<R>(what: string, call: () => Promise<R>): Promise<R> {
    return retryUntilDeadline(
      async () => {
        this.connecting ??= this.client.connect().catch((error: unknown) => {
          this.connecting = undefined;
          throw error;
        });
        await this.connecting;
        return call();
      },
      {
        what: `kafka.admin.${what} on ${this.brokers}`,
        deadlineMs: this.outageDeadlineMs,
        toError: (error) => toKafkaError(error, `kafka.admin.${what} failed`),
      },
    );
  }
}

/**
 * Builds a {@link KafkaAdmin}.
 *
 * @example
 * ```ts
 * const admin = kafkaAdmin({ brokers: ["127.0.0.1:9092"], client: "confluent" });
 * ```
 */
export function kafkaAdmin(options: KafkaConnectionOptions): KafkaAdmin {
  return new KafkaAdmin(options);
}
