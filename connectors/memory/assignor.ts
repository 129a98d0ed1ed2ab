import type { TopicPartition } from "../types.js";

/** How a group spreads partitions over its members, as Kafka's assignors do. */
export type AssignmentStrategy = "range" | "round-robin";

/** A member as an assignor sees it: its id and the topics it subscribes to. */
export interface AssignorMember {
  readonly memberId: string;
  readonly topics: readonly string[];
}

/**
 * Computes a group assignment. `range` splits each topic's partitions into contiguous runs
 * over the members subscribed to it (sorted by id, the first ones get one more); `round-robin`
 * deals all subscribed topic-partitions, sorted, one at a time to the next member that
 * subscribes to the topic.
 *
 * @example
 * ```ts
 * assign("range", [{ memberId: "a", topics: ["t"] }, { memberId: "b", topics: ["t"] }], new Map([["t", 4]]));
 * // a → t[0], t[1]; b → t[2], t[3]
 * ```
 */
export function assign(
  strategy: AssignmentStrategy,
  members: readonly AssignorMember[],
  partitionCounts: ReadonlyMap<string, number>,
): Map<string, TopicPartition[]> {
  const sorted = [...members].sort((a, b) =>
    a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0,
  );
  const out = new Map<string, TopicPartition[]>(
    sorted.map((m) => [m.memberId, []]),
  );
  const topics = [...new Set(sorted.flatMap((m) => m.topics))].sort();
  if (strategy === "range") {
    for (const topic of topics) {
      const count = partitionCounts.get(topic) ?? 0;
      const subscribers = sorted.filter((m) => m.topics.includes(topic));
      const n = subscribers.length;
      if (n === 0) continue;
      const base = Math.floor(count / n);
      const extra = count % n;
      let next = 0;
      subscribers.forEach((m, i) => {
        const take = base + (i < extra ? 1 : 0);
        for (let p = next; p < next + take; p++)
          out.get(m.memberId)!.push({ topic, partition: p });
        next += take;
      });
    }
    return out;
  }
  let cursor = 0;
  for (const topic of topics) {
    const count = partitionCounts.get(topic) ?? 0;
    for (let p = 0; p < count; p++) {
      for (let tries = 0; tries < sorted.length; tries++) {
        const m = sorted[cursor % sorted.length]!;
        cursor += 1;
        if (m.topics.includes(topic)) {
          out.get(m.memberId)!.push({ topic, partition: p });
          break;
        }
      }
    }
  }
  return out;
}
