import { afterAll, beforeAll } from "vitest";
import { kafkaAdmin, type KafkaAdmin } from "../kafka/admin.js";

/**
 * One integration test file's Kafka: the brokers and an admin, ready from beforeAll on (read
 * them inside hooks and tests, not at module load), and the topics and consumer groups the
 * tests create, deleted in afterAll.
 */
export interface KafkaTestBed {
  readonly brokers: readonly string[];
  readonly admin: KafkaAdmin;
  /** Topics to delete after the file's tests. */
  readonly topics: string[];
  /** Consumer groups to delete after the file's tests. */
  readonly groups: string[];
}

/**
 * Registers the beforeAll/afterAll of {@link KafkaTestBed}. `brokers` finds the running Kafka
 * (the test's `requireServices`: connector code does not import stack/).
 *
 * @example
 * ```ts
 * const kafka = kafkaTestBed(async () => (await requireServices(["kafka"])).kafkaBrokers);
 * it("…", async () => { kafka.topics.push(t); await kafka.admin.createTopics([{ topic: t }]); });
 * ```
 */
export function kafkaTestBed(
  brokers: () => Promise<readonly string[]>,
): KafkaTestBed {
  let found: readonly string[] | undefined;
  let admin: KafkaAdmin | undefined;
  const topics: string[] = [];
  const groups: string[] = [];
  beforeAll(async () => {
    found = await brokers();
    admin = kafkaAdmin({ brokers: found });
  });
  afterAll(async () => {
    await admin?.deleteGroups(groups).catch(() => undefined);
    await admin?.deleteTopics(topics);
    await admin?.close();
  });
  const ready = <T>(v: T | undefined, what: string): T => {
    if (v === undefined)
      throw new Error(
        `kafkaTestBed: ${what} is set in beforeAll; read it in a test`,
      );
    return v;
  };
  return {
    get brokers() {
      return ready(found, "brokers");
    },
    get admin() {
      return ready(admin, "admin");
    },
    topics,
    groups,
  };
}
