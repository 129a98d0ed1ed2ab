import type { Sink, Source } from "../types.js";

/** A record the suites produce: string key and string value, so any connector's codec fits. */
export interface TestRecord {
  readonly key: string;
  readonly value: string;
  /** Partition to write to; otherwise the key's. */
  readonly partition?: number;
}

/** What the source suite asks of a connector when it creates a consumer. */
export interface ConformanceSourceOptions {
  /** Consumer group; the suite makes a fresh one per test and reuses it for restart and revoke checks. */
  readonly group: string;
  readonly maxInFlight: number;
  readonly lowWatermark: number;
  /** Bound for the drains of revoke and close, in ms. */
  readonly drainTimeoutMs: number;
  /** Set by the intake suite only. */
  readonly maxInFlightPerPartition?: number;
}

/**
 * One test's world, created fresh by the factory: a unique topic with at least two
 * partitions, a way to produce into it, and a way to create consumers of it. Must work for a
 * real broker: everything is async and the topic name must not collide with other runs.
 */
export interface SourceHarness {
  readonly topic: string;
  /** Partitions of `topic`; at least 2 (the revoke check moves one to a second member). */
  readonly partitions: number;
  /** Produces records to `topic`, keyed, and resolves once they are readable. */
  produce(records: readonly TestRecord[]): Promise<void>;
  /** Creates a (not yet connected) source over `topic`; call it twice with one group for two members. */
  createSource(options: ConformanceSourceOptions): Promise<Source<string>>;
  /** Deletes what the harness created (topic, groups); called even when the test fails. */
  cleanup(): Promise<void>;
}

/** One test's world for the sink suite. */
export interface SinkHarness {
  readonly topic: string;
  /** Creates a (not yet connected) sink that writes to `topic` (records carry `topic` too). */
  createSink(): Promise<Sink<string>>;
  /** Reads back what is in `topic`, each partition in offset order; waits until `expected` records are there or its own timeout. */
  readBack(expected: number): Promise<readonly TestRecord[]>;
  cleanup(): Promise<void>;
}

/** Tuning of a suite run: waits are condition polls bounded by `timeoutMs` (default 10 000). */
export interface ConformanceOptions {
  readonly timeoutMs?: number;
  /**
   * What the connector promises when a partition moves to another member.
   * `"commit-before-release"` (default): the old owner drains and commits before the new
   * owner reads, so the new owner sees none of the records the old one held.
   * `"at-least-once"`: the driver rejoins without waiting for the drain (kafkajs has no
   * revoke hook), so the new owner may see records the old one held again, but none is
   * lost and the old owner is told `revoked`.
   */
  readonly revokeHandover?: "commit-before-release" | "at-least-once";
}
