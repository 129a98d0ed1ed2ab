export { closedError } from "../internal/errors.js";
import { SluiceError } from "../../operators/sluice-error.js";
import type { TopicPartition } from "../types.js";

/**
 * A topic the memory log does not know.
 *
 * @example
 * ```ts
 * throw topicNotFound("orders");
 * ```
 */
export function topicNotFound(topic: string): SluiceError {
  return new SluiceError(
    "NOT_FOUND",
    `memory log: topic "${topic}" does not exist; create it with log.createTopic("${topic}", { partitions })`,
    {
      context: { topic },
    },
  );
}

/**
 * A commit from a member that does not own the partition (it left, crashed or lost it in a
 * rebalance): Kafka's `CommitFailedException`, never retryable.
 *
 * @example
 * ```ts
 * throw commitRejected("g", "g-1", { topic: "orders", partition: 0 });
 * ```
 */
export function commitRejected(
  group: string,
  memberId: string,
  tp: TopicPartition,
): SluiceError {
  return new SluiceError(
    "CONFLICT",
    `memory log: member ${memberId} of group "${group}" does not own ${tp.topic}[${tp.partition}]; commit rejected`,
    {
      context: { topic: tp.topic, partition: tp.partition, stage: "commit" },
    },
  );
}

/**
 * The member was removed by `log.crash(memberId)`: its process is gone as far as the group
 * knows. Not retryable for this member; a new member resumes from the last commit.
 *
 * @example
 * ```ts
 * subscriber.error(memberCrashed("g-1"));
 * ```
 */
export function memberCrashed(memberId: string): SluiceError {
  return new SluiceError(
    "CLOSED",
    `memory source: member ${memberId} crashed (fault injection); its partitions were reassigned`,
  );
}
