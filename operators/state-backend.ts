/** The two clocks a timer can be set on. */
export type TimerDomain = "event" | "processing";

/** A due timer: the state partition and key it belongs to and its time. */
export interface TimerEntry {
  readonly partition: string;
  readonly key: string;
  readonly time: number;
}

/** A value as stored: plain JSON-able data and, with a TTL, when it expires (epoch ms). */
export type StoredEntry = readonly [
  key: string,
  value: unknown,
  expiresAt: number | null,
];

/**
 * The keyed state and timers of one state partition (one input `topic/partition`), as
 * plain JSON-able data.
 */
export interface PartitionSnapshot {
  /** Value states: state name → `[key, value, expiresAt]` rows. */
  readonly values: { readonly [name: string]: readonly StoredEntry[] };
  /** Map states: state name → `[key, rows of [mapKey, value, expiresAt]]`. */
  readonly maps: {
    readonly [name: string]: readonly (readonly [
      key: string,
      entries: readonly StoredEntry[],
    ])[];
  };
  /** Pending timers per domain: `[key, time]`. */
  readonly timers: {
    readonly [D in TimerDomain]: readonly (readonly [
      key: string,
      time: number,
    ])[];
  };
}

/**
 * A checkpoint of a state backend: one piece per state partition, so each piece can be
 * stored under (job, topic, partition) and move with its partition (DESIGN.md "Scale").
 */
export interface StateSnapshot {
  readonly version: 1;
  readonly partitions: { readonly [partition: string]: PartitionSnapshot };
}

/**
 * Where keyed state and timers live. Everything is addressed by state partition (the
 * origin's `topic/partition`, `""` for records without an origin), state name and key.
 * Reads take the current processing time and never return an expired entry.
 *
 * @example
 * ```ts
 * const backend: StateBackend = memoryStateBackend();
 * backend.setValue("orders/0", "count", "user-1", 3, undefined);
 * const pieces = backend.snapshot(["orders/0"]); // store per partition
 * ```
 */
export interface StateBackend {
  getValue(partition: string, name: string, key: string, now: number): unknown;
  setValue(
    partition: string,
    name: string,
    key: string,
    value: unknown,
    expiresAt: number | undefined,
  ): void;
  clearValue(partition: string, name: string, key: string): void;

  getMapEntry(
    partition: string,
    name: string,
    key: string,
    mapKey: string,
    now: number,
  ): unknown;
  setMapEntry(
    partition: string,
    name: string,
    key: string,
    mapKey: string,
    value: unknown,
    expiresAt: number | undefined,
  ): void;
  deleteMapEntry(
    partition: string,
    name: string,
    key: string,
    mapKey: string,
  ): void;
  /** Live entries of one key's map, in insertion order. */
  mapEntries(
    partition: string,
    name: string,
    key: string,
    now: number,
  ): [string, unknown][];
  clearMap(partition: string, name: string, key: string): void;

  /** Registers a timer; registering the same (partition, key, time) twice keeps one. */
  registerTimer(
    partition: string,
    domain: TimerDomain,
    key: string,
    time: number,
  ): void;
  deleteTimer(
    partition: string,
    domain: TimerDomain,
    key: string,
    time: number,
  ): void;
  /** Earliest pending timer time of a domain over all partitions. */
  nextTimer(domain: TimerDomain): number | undefined;
  /** Removes and returns the earliest timer at or below `upTo`, if any. */
  pollTimer(domain: TimerDomain, upTo: number): TimerEntry | undefined;

  /** Removes every entry expired at `now` (TTL clean-up); returns how many were removed. */
  expire(now: number): number;

  /** State partitions holding anything. */
  partitions(): string[];
  /** The state of the given partitions (default: all), as plain data. */
  snapshot(partitions?: readonly string[]): StateSnapshot;
  /** Replaces the state of each partition in the snapshot (others are untouched). */
  restore(snapshot: StateSnapshot): void;
  /**
   * Optional: calls `listener` after every `restore`, so `keyedProcess` re-arms its
   * processing-time wake-up for restored timers (a restore after subscription, on partition
   * assignment, would otherwise leave them asleep until some new timer is registered).
   * Returns a function that removes the listener.
   */
  onRestore?(listener: () => void): () => void;
  /**
   * Optional: counts one output of a fired timer as in flight until the returned function is
   * called (once; later calls do nothing). A timer leaves the state when it fires, so a
   * checkpoint taken while its outputs are still on their way to a sink would lose them on a
   * restore: `keyedProcess` holds every handle-less `onTimer` output here until a sink acks
   * it, and the checkpoint barrier waits for {@link StateBackend.outputsInFlight} to reach 0.
   * A backend without it leaves timer outputs outside the barrier.
   */
  holdOutput?(): () => void;
  /** Optional: outputs held by {@link StateBackend.holdOutput} and not yet released. */
  outputsInFlight?(): number;
  /**
   * Optional: the checkpoint coordinator's word that the last {@link StateBackend.snapshot}
   * of these partitions is now durable (saved in the checkpoint store), as Flink's
   * `notifyCheckpointComplete`. Whatever waits on durability (a processed-id cache that
   * must not say "done" before the effect is saved) may go ahead for them now.
   */
  checkpointSaved?(partitions: readonly string[]): void;
  /**
   * Optional: the last snapshot of these partitions was NOT saved (the store failed, or
   * another instance claimed them: fenced). Nothing it covered may be taken for durable.
   */
  checkpointAborted?(partitions: readonly string[]): void;
  /** Forgets a partition (it was revoked and its snapshot stored). */
  dropPartition(partition: string): void;
}

/**
 * The state partition of a record: `topic/partition` of its origin, `""` without one.
 *
 * @example
 * ```ts
 * statePartitionOf({ topic: "orders", partition: 3, offset: 17 }); // "orders/3"
 * ```
 */
export function statePartitionOf(
  origin: { readonly topic: string; readonly partition: number } | undefined,
): string {
  return origin === undefined ? "" : `${origin.topic}/${origin.partition}`;
}
