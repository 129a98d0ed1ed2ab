import type { Headers } from "../../operators/record.js";
import { SluiceError } from "../../operators/sluice-error.js";
import type { TopicPartition } from "../types.js";
import { assign } from "./assignor.js";
import type { AssignmentStrategy } from "./assignor.js";
import { commitRejected, topicNotFound } from "./errors.js";
import { tpKey } from "../internal/partition-key.js";
import { partitionForKey } from "./partitioner.js";

/** One record stored in the memory log. */
export interface LogRecord<V = unknown> {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly key: string | undefined;
  readonly value: V;
  /** Epoch milliseconds: the producer's timestamp, or the log's clock at append. */
  readonly timestamp: number;
  readonly headers: Headers;
}

/** What {@link MemoryLog.append} accepts. */
export interface AppendInit<V = unknown> {
  readonly key?: string | undefined;
  readonly value: V;
  readonly headers?: Headers;
  readonly timestamp?: number;
  /** Explicit partition; otherwise murmur2(key) or round-robin for keyless records. */
  readonly partition?: number;
}

/** Options of a {@link MemoryLog}. */
export interface MemoryLogOptions {
  /** Keep at most this many records per partition; older ones are dropped. Default: unbounded. */
  readonly retentionRecords?: number;
  /** How groups spread partitions over members. Default `"range"`, as Kafka. */
  readonly assignment?: AssignmentStrategy;
  /** Clock for append timestamps. Default `Date.now`. */
  readonly now?: () => number;
}

/**
 * The callbacks a group member gives the log. The log calls `onRevoke` before it moves a
 * partition away (the member drains, commits and resolves), then `onAssign` with the
 * partitions it now owns. `onCrash` tells the member it was removed by fault injection.
 */
export interface GroupMemberListener {
  onRevoke(partitions: readonly TopicPartition[]): Promise<void> | void;
  onAssign(partitions: readonly TopicPartition[]): void;
  onCrash?(): void;
}

/** A member's place in a group, as {@link MemoryLog.join} returns it. */
export interface GroupMembership {
  readonly memberId: string;
  /** Resolves when the rebalance triggered by the join is over. */
  readonly ready: Promise<void>;
}

class PartitionLog {
  records: (LogRecord | undefined)[] = [];
  head = 0;
  start = 0;
  end = 0;
}

interface Member {
  readonly memberId: string;
  readonly group: string;
  readonly topics: readonly string[];
  readonly listener: GroupMemberListener;
}

class Group {
  readonly members = new Map<string, Member>();
  assignment = new Map<string, TopicPartition[]>();
  readonly committed = new Map<string, number>();
  chain: Promise<void> = Promise.resolve();
  generation = 0;
}

const has = (list: readonly TopicPartition[], tp: TopicPartition): boolean =>
  list.some((x) => x.topic === tp.topic && x.partition === tp.partition);

/**
 * An in-memory partitioned log with consumer groups: the embedded default behind the
 * memory connector, and a fault-injection harness (crash a member, force a rebalance).
 *
 * Topics have a fixed number of partitions; keyed records go to
 * `murmur2(key) % partitions` like Kafka's default partitioner, keyless ones round-robin.
 * Each partition numbers its records from 0. Groups store committed offsets per
 * (group, topic, partition) and assign partitions to members (range or round-robin);
 * membership changes move only the partitions that must move, {@link MemoryLog.rebalance}
 * revokes and reassigns everything. Rebalances of a group run one at a time.
 *
 * @example
 * ```ts
 * const log = new MemoryLog({ retentionRecords: 100_000 });
 * log.createTopic("orders", { partitions: 3 });
 * const { partition, offset } = log.append("orders", { key: "user-1", value: { total: 10 } });
 * log.read("orders", partition, offset, 10); // [the record]
 * ```
 */
export class MemoryLog {
  private readonly topicsByName = new Map<string, PartitionLog[]>();
  private readonly roundRobin = new Map<string, number>();
  private readonly groups = new Map<string, Group>();
  private readonly memberGroup = new Map<string, string>();
  private readonly appendListeners = new Set<
    (topic: string, partition: number) => void
  >();
  private memberSeq = 0;
  private readonly retention: number;
  private readonly now: () => number;
  private readonly strategy: AssignmentStrategy;

  constructor(options: MemoryLogOptions = {}) {
    const retention = options.retentionRecords ?? Number.POSITIVE_INFINITY;
    if (!(retention >= 1)) {
      throw new SluiceError(
        "CONFIG",
        "memory.log.retentionRecords must be at least 1",
        { context: { field: "retentionRecords" } },
      );
    }
    this.retention = retention;
    this.now = options.now ?? Date.now;
    this.strategy = options.assignment ?? "range";
  }

  /** Creates a topic; creating an existing topic with the same partition count is a no-op. */
  createTopic(name: string, options: { readonly partitions: number }): void {
    const { partitions } = options;
    if (name.length === 0)
      throw new SluiceError(
        "CONFIG",
        "memory.log.createTopic: name must not be empty",
        { context: { field: "name" } },
      );
    if (!Number.isInteger(partitions) || partitions < 1) {
      throw new SluiceError(
        "CONFIG",
        `memory.log.createTopic: partitions must be a positive integer, got ${partitions}`,
        {
          context: { topic: name, field: "partitions" },
        },
      );
    }
    const existing = this.topicsByName.get(name);
    if (existing !== undefined) {
      if (existing.length === partitions) return;
      throw new SluiceError(
        "CONFLICT",
        `memory log: topic "${name}" exists with ${existing.length} partitions, not ${partitions}`,
        {
          context: { topic: name },
        },
      );
    }
    this.topicsByName.set(
      name,
      Array.from({ length: partitions }, () => new PartitionLog()),
    );
  }

  /** True if the topic exists. */
  hasTopic(name: string): boolean {
    return this.topicsByName.has(name);
  }

  /** Number of partitions of a topic; throws `NOT_FOUND` for an unknown topic. */
  partitionCount(topic: string): number {
    return this.partitionsOf(topic).length;
  }

  /** Appends one record and returns where it landed. */
  append<V>(
    topic: string,
    init: AppendInit<V>,
  ): {
    readonly topic: string;
    readonly partition: number;
    readonly offset: number;
  } {
    const parts = this.partitionsOf(topic);
    let partition = init.partition;
    if (partition === undefined) {
      if (init.key !== undefined)
        partition = partitionForKey(init.key, parts.length);
      else {
        const next = this.roundRobin.get(topic) ?? 0;
        this.roundRobin.set(topic, next + 1);
        partition = next % parts.length;
      }
    }
    const log = parts[partition];
    if (log === undefined || !Number.isInteger(partition)) {
      throw new SluiceError(
        "NOT_FOUND",
        `memory log: ${topic} has no partition ${partition}`,
        { context: { topic, partition } },
      );
    }
    const offset = log.end;
    log.records.push({
      topic,
      partition,
      offset,
      key: init.key,
      value: init.value,
      timestamp: init.timestamp ?? this.now(),
      headers: init.headers ?? {},
    });
    log.end += 1;
    while (log.end - log.start > this.retention) {
      log.records[log.head] = undefined;
      log.head += 1;
      log.start += 1;
    }
    if (log.head > 1024 && log.head * 2 > log.records.length) {
      log.records = log.records.slice(log.head);
      log.head = 0;
    }
    for (const listener of this.appendListeners) listener(topic, partition);
    return { topic, partition, offset };
  }

  /** Up to `max` records of a partition from `offset` on (from the oldest kept one if `offset` was dropped). */
  read(
    topic: string,
    partition: number,
    offset: number,
    max: number,
  ): LogRecord[] {
    const log = this.partitionLog(topic, partition);
    const from = Math.max(offset, log.start);
    const to = Math.min(log.end, from + max);
    if (to <= from) return [];
    const base = log.head - log.start;
    const out: LogRecord[] = [];
    for (let i = base + from; i < base + to; i++) out.push(log.records[i]!);
    return out;
  }

  /** The oldest offset still kept (moves up with retention). */
  startOffset(topic: string, partition: number): number {
    return this.partitionLog(topic, partition).start;
  }

  /** The offset the next appended record of the partition will get. */
  endOffset(topic: string, partition: number): number {
    return this.partitionLog(topic, partition).end;
  }

  /** Calls `listener` after every append; returns a function that removes it. */
  onAppend(listener: (topic: string, partition: number) => void): () => void {
    this.appendListeners.add(listener);
    return () => this.appendListeners.delete(listener);
  }

  /**
   * Adds a member to a group. The member id is known at once; `ready` resolves once the
   * rebalance that gives the member its partitions is over. Throws `NOT_FOUND` if a topic
   * does not exist.
   */
  join(
    group: string,
    topics: readonly string[],
    listener: GroupMemberListener,
    clientId = "member",
  ): GroupMembership {
    for (const topic of topics) this.partitionsOf(topic);
    const g = this.group(group);
    this.memberSeq += 1;
    const memberId = `${group}/${clientId}-${String(this.memberSeq).padStart(6, "0")}`;
    g.members.set(memberId, { memberId, group, topics: [...topics], listener });
    this.memberGroup.set(memberId, group);
    return { memberId, ready: this.enqueue(g, false) };
  }

  /** Removes a member that has drained and committed; its partitions go to the others. */
  async leave(memberId: string): Promise<void> {
    const g = this.groupOfMember(memberId);
    if (g === undefined) return;
    this.remove(g, memberId);
    await this.enqueue(g, false);
  }

  /**
   * Fault injection: the member vanishes without committing. Its partitions are reassigned
   * and resume from the group's last commit, so its uncommitted records are redelivered.
   * Later commits from it are rejected.
   */
  async crash(memberId: string): Promise<void> {
    const g = this.groupOfMember(memberId);
    if (g === undefined) return;
    const member = g.members.get(memberId);
    this.remove(g, memberId);
    member?.listener.onCrash?.();
    await this.enqueue(g, false);
  }

  /**
   * Fault injection: the group drops the member without telling it (a zombie: a long pause,
   * a lost network). Its partitions are reassigned; the member keeps running with what it
   * had, and its later commits are rejected.
   */
  async expel(memberId: string): Promise<void> {
    const g = this.groupOfMember(memberId);
    if (g === undefined) return;
    this.remove(g, memberId);
    await this.enqueue(g, false);
  }

  /** Fault injection: revokes every partition of every member, then assigns them again. */
  async rebalance(group: string): Promise<void> {
    await this.enqueue(this.group(group), true);
  }

  /** Stores committed offsets (next offset to read) for partitions the member owns. */
  commit(
    memberId: string,
    offsets: readonly {
      readonly topic: string;
      readonly partition: number;
      readonly offset: number;
    }[],
  ): void {
    const g = this.groupOfMember(memberId);
    const groupName = this.memberGroup.get(memberId) ?? "?";
    for (const o of offsets) {
      if (g === undefined || !has(g.assignment.get(memberId) ?? [], o))
        throw commitRejected(groupName, memberId, o);
    }
    for (const o of offsets)
      g!.committed.set(tpKey(o.topic, o.partition), o.offset);
  }

  /** The group's committed offset of a partition (next offset to read), if any. */
  committed(
    group: string,
    topic: string,
    partition: number,
  ): number | undefined {
    return this.groups.get(group)?.committed.get(tpKey(topic, partition));
  }

  /** Ids of the group's live members, in join order. */
  members(group: string): string[] {
    return [...(this.groups.get(group)?.members.keys() ?? [])];
  }

  /** Partitions a member owns now. */
  assignment(memberId: string): readonly TopicPartition[] {
    return this.groupOfMember(memberId)?.assignment.get(memberId) ?? [];
  }

  /** How many rebalances the group has completed. */
  generation(group: string): number {
    return this.groups.get(group)?.generation ?? 0;
  }

  /** Resolves when no rebalance of the group is queued or running. */
  async settled(group: string): Promise<void> {
    const g = this.groups.get(group);
    if (g === undefined) return;
    let last: Promise<void> | undefined;
    while (last !== g.chain) {
      last = g.chain;
      await last;
    }
  }

  private remove(g: Group, memberId: string): void {
    g.members.delete(memberId);
    g.assignment.delete(memberId);
    this.memberGroup.delete(memberId);
  }

  private enqueue(g: Group, eager: boolean): Promise<void> {
    const run = g.chain.then(() => this.runRebalance(g, eager));
    g.chain = run;
    return run;
  }

  private async runRebalance(g: Group, eager: boolean): Promise<void> {
    const members = [...g.members.values()];
    const counts = new Map<string, number>();
    for (const m of members)
      for (const t of m.topics) counts.set(t, this.partitionCount(t));
    const target = assign(this.strategy, members, counts);
    const kept = new Map<string, TopicPartition[]>();
    await Promise.all(
      members.map(async (m) => {
        const current = g.assignment.get(m.memberId) ?? [];
        const next = target.get(m.memberId) ?? [];
        const revoked = eager
          ? current
          : current.filter((tp) => !has(next, tp));
        kept.set(
          m.memberId,
          current.filter((tp) => !has(revoked, tp)),
        );
        if (revoked.length === 0) return;
        try {
          await m.listener.onRevoke(revoked);
        } catch {
          // A member that fails to revoke loses the partitions anyway, like a consumer
          // that misses the rebalance timeout; its later commits are rejected.
        }
      }),
    );
    const assignment = new Map<string, TopicPartition[]>();
    const added = new Map<string, TopicPartition[]>();
    for (const m of members) {
      if (!g.members.has(m.memberId)) continue;
      const next = target.get(m.memberId) ?? [];
      assignment.set(m.memberId, next);
      const before = kept.get(m.memberId) ?? [];
      added.set(
        m.memberId,
        next.filter((tp) => !has(before, tp)),
      );
    }
    g.assignment = assignment;
    g.generation += 1;
    for (const m of members) {
      const partitions = added.get(m.memberId);
      if (partitions !== undefined && partitions.length > 0)
        m.listener.onAssign(partitions);
    }
  }

  private group(name: string): Group {
    let g = this.groups.get(name);
    if (g === undefined) {
      g = new Group();
      this.groups.set(name, g);
    }
    return g;
  }

  private groupOfMember(memberId: string): Group | undefined {
    const name = this.memberGroup.get(memberId);
    return name === undefined ? undefined : this.groups.get(name);
  }

  private partitionsOf(topic: string): PartitionLog[] {
    const parts = this.topicsByName.get(topic);
    if (parts === undefined) throw topicNotFound(topic);
    return parts;
  }

  private partitionLog(topic: string, partition: number): PartitionLog {
    const log = this.partitionsOf(topic)[partition];
    if (log === undefined)
      throw new SluiceError(
        "NOT_FOUND",
        `memory log: ${topic} has no partition ${partition}`,
        { context: { topic, partition } },
      );
    return log;
  }
}
