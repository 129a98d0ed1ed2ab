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

/**
 * One fetched batch: one tracker handle for all of its records (`trackBatch`). Only what a
 * redelivery and the commit point need is kept while its records are in flight: the fetched
 * messages and one done flag per record. Decoded values are not kept (a window can hold a
 * batch's records for minutes): a redelivery decodes the bytes again.
 */
export interface BatchState<T> {
  readonly ps: PartitionState<T>;
  readonly last: number;
  readonly messages: readonly FetchedMessage[];
  /** Per record of `messages`: 1 once acknowledged (never delivered again), else 0. */
  readonly done: Uint8Array;
  handle: AckHandle;
  /** Records of the current delivery not settled yet. */
  outstanding: number;
  failed: boolean;
  /** Tells the source that a record of this batch is settled. */
  readonly onSettled: (
    batch: BatchState<T>,
    error: SluiceError | undefined,
  ) => void;
}

/**
 * The handle a record carries: forwards to its batch's current handle and tells the source
 * when this record is settled. Kept small (three fields): one lives per in-flight record.
 */
export class RecordAck<T> implements AckHandle {
  /** Pending descendants; -1 once settled. */
  private count = 1;
  constructor(
    private readonly batch: BatchState<T>,
    private readonly index: number,
  ) {}
  get settled(): boolean {
    return this.count < 0;
  }
  retain(count: number): void {
    if (this.count < 0) return;
    this.count += count;
    // The batch handle is replaced only once every record of a delivery is settled, so
    // an unsettled record's batch still holds the handle it was delivered with.
    this.batch.handle.retain(count);
    if (this.count <= 0) this.finish(undefined);
  }
  ack(): void {
    if (this.count < 0) return;
    this.count -= 1;
    this.batch.handle.ack();
    if (this.count === 0) this.finish(undefined);
  }
  nack(error: SluiceError): void {
    if (this.count < 0) return;
    this.batch.handle.nack(error);
    this.finish(error);
  }
  private finish(error: SluiceError | undefined): void {
    this.count = -1;
    if (error === undefined) this.batch.done[this.index] = 1;
    this.batch.onSettled(this.batch, error);
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
  const { messages, done } = head.value;
  let point = committed;
  for (let i = 0; i < messages.length; i++) {
    if (done[i] !== 1) break;
    point = messages[i]!.offset + 1;
  }
  return point === undefined || (committed !== undefined && point < committed)
    ? committed
    : point;
}
