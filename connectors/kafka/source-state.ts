import type { CommitTracker } from "../../operators/commit-tracker.js";
import type { AckHandle } from "../../operators/record.js";
import type { SluiceError } from "../../operators/sluice-error.js";
import type { TopicPartition } from "../types.js";
import type { FetchedMessage, SeekTarget } from "./client.js";

// What the Kafka source keeps per partition and per fetched batch. Internal to the source.

export interface PartitionState<T> {
  readonly tp: TopicPartition;
  readonly key: string;
  /** Replaced by `restore()` before the partition emits anything. */
  tracker: CommitTracker;
  /** Next offset to emit: fetched offsets below it were emitted already (refetch guard). */
  nextOffset: number | undefined;
  /** Highest high watermark a fetched batch reported (see `KafkaSource.isCaughtUp`). */
  highWatermark: number | undefined;
  inFlight: number;
  lastCommitted: number | undefined;
  revoking: boolean;
  dropped: boolean;
  readonly batches: Set<BatchState<T>>;
  /** Set by `restore()`: the assignment wait ends. */
  restored: boolean;
  /** Highest offset of the restored done-above ranges: fetched offsets up to it are checked for skipping. */
  skipUntil: number;
  /**
   * After a restore's seek, until a batch from the seek position arrives: batches fetched
   * before the seek are handed back unresolved, never emitted.
   */
  fence: SeekFence | undefined;
}

/** The seek a restored partition waits for. */
export interface SeekFence {
  readonly target: SeekTarget;
  /** Batches starting above `target` handed back so far (a bounded re-seek, see the source). */
  rejected: number;
}

export interface Entry<T> {
  readonly msg: FetchedMessage;
  readonly value: T | undefined;
  readonly error: SluiceError | undefined;
  done: boolean;
}

/** One fetched batch: one tracker handle for all of its records (`trackBatch`). */
export interface BatchState<T> {
  readonly ps: PartitionState<T>;
  readonly last: number;
  readonly entries: readonly Entry<T>[];
  handle: AckHandle;
  /** Records of the current delivery not settled yet. */
  outstanding: number;
  failed: boolean;
}

/** The handle a record carries: forwards to its batch's handle and tells the source when this record is settled. */
export class RecordAck<T> implements AckHandle {
  private count = 1;
  private done = false;
  constructor(
    private readonly batch: BatchState<T>,
    private readonly handle: AckHandle,
    private readonly onSettled: (
      batch: BatchState<T>,
      error: SluiceError | undefined,
    ) => void,
    readonly entry: Entry<T>,
  ) {}
  get settled(): boolean {
    return this.done;
  }
  retain(count: number): void {
    if (this.done) return;
    this.count += count;
    this.handle.retain(count);
    if (this.count <= 0) this.finish(undefined);
  }
  ack(): void {
    if (this.done) return;
    this.count -= 1;
    this.handle.ack();
    if (this.count === 0) this.finish(undefined);
  }
  nack(error: SluiceError): void {
    if (this.done) return;
    this.handle.nack(error);
    this.finish(error);
  }
  private finish(error: SluiceError | undefined): void {
    this.done = true;
    if (error === undefined) this.entry.done = true;
    this.onSettled(this.batch, error);
  }
}

/**
 * The tracker's commit point, refined inside the oldest open batch: the tracker settles
 * a batch as a whole, but its done prefix is safe to commit too, so a restart repeats
 * no record that was done in offset order.
 */
export function commitPoint<T>(ps: PartitionState<T>): number | undefined {
  const committed = ps.tracker.committable;
  const head = ps.batches.values().next();
  if (head.done === true || head.value.failed) return committed;
  let point = committed;
  for (const entry of head.value.entries) {
    if (!entry.done) break;
    point = entry.msg.offset + 1;
  }
  return point === undefined || (committed !== undefined && point < committed)
    ? committed
    : point;
}
