import type {
  KafkaAdminClient,
  PartitionOffsets,
  TopicSpec,
} from "../client.js";
import { CLOSE_DEADLINE_MS, withinDeadline } from "../../internal/deadline.js";

/**
 * The part of the KafkaJS admin API that kafkajs and @confluentinc/kafka-javascript (its
 * KafkaJS-compatible API) both implement alike.
 * @internal
 */
export interface KafkaJsCompatibleAdmin {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  listTopics(): Promise<string[]>;
  deleteTopics(options: { topics: string[]; timeout?: number }): Promise<void>;
  fetchTopicOffsets(
    topic: string,
  ): Promise<{ partition: number; low: string; high: string }[]>;
  fetchOffsets(options: {
    groupId: string;
    topics: string[];
  }): Promise<{ partitions: { partition: number; offset: string }[] }[]>;
  deleteGroups(groupIds: string[]): Promise<unknown>;
}

/**
 * {@link KafkaAdminClient} over a driver's KafkaJS-compatible admin object. Only topic
 * creation differs between the drivers, so each client supplies `createTopics`.
 * @internal
 */
export abstract class KafkaJsCompatibleAdminClient<
  A extends KafkaJsCompatibleAdmin,
> implements KafkaAdminClient {
  constructor(protected readonly admin: A) {}

  connect(): Promise<void> {
    return this.admin.connect();
  }

  abstract createTopics(topics: readonly TopicSpec[]): Promise<void>;

  async deleteTopics(topics: readonly string[]): Promise<void> {
    if (topics.length === 0) return;
    const existing = new Set(await this.admin.listTopics());
    const present = topics.filter((t) => existing.has(t));
    if (present.length > 0)
      await this.admin.deleteTopics({ topics: present, timeout: 10_000 });
  }

  async topicOffsets(topic: string): Promise<readonly PartitionOffsets[]> {
    const offsets = await this.admin.fetchTopicOffsets(topic);
    return offsets
      .map((o) => ({
        partition: o.partition,
        low: Number(o.low),
        high: Number(o.high),
      }))
      .sort((a, b) => a.partition - b.partition);
  }

  async groupOffsets(
    group: string,
    topic: string,
  ): Promise<readonly { partition: number; offset: number | undefined }[]> {
    const [entry] = await this.admin.fetchOffsets({
      groupId: group,
      topics: [topic],
    });
    return (entry?.partitions ?? [])
      .map((p) => ({
        partition: p.partition,
        offset: Number(p.offset) >= 0 ? Number(p.offset) : undefined,
      }))
      .sort((a, b) => a.partition - b.partition);
  }

  async deleteGroups(groups: readonly string[]): Promise<void> {
    if (groups.length > 0) await this.admin.deleteGroups([...groups]);
  }

  disconnect(): Promise<void> {
    return withinDeadline(
      this.admin.disconnect(),
      CLOSE_DEADLINE_MS,
      "kafka admin disconnect",
    );
  }
}

/**
 * Topic specs in the shape both drivers' `createTopics` take.
 * @internal
 */
export function topicConfigs(topics: readonly TopicSpec[]): {
  topic: string;
  numPartitions: number;
  replicationFactor: number;
  configEntries: { name: string; value: string }[];
}[] {
  return topics.map((t) => ({
    topic: t.topic,
    numPartitions: t.partitions,
    replicationFactor: t.replicationFactor,
    configEntries: Object.entries(t.config).map(([name, value]) => ({
      name,
      value,
    })),
  }));
}
