import type { AckHandle } from "../../operators/record.js";
import type { SluiceError } from "../../operators/sluice-error.js";
import { intakePartition } from "../internal/intake.js";
import type { IntakePartition } from "../internal/intake.js";
import type { TopicPartition } from "../types.js";
import { oldestOf } from "../internal/unsettled.js";
import type { PartitionLagSample } from "../metrics.js";
import type {
  FetchedBatch,
  FetchedMessage,
  KafkaConsumerClient,
  KafkaProducerClient,
  SeekTarget,
} from "./client.js";
import { createKafkaClient } from "./clients/create.js";
import type { ResolvedKafkaSourceOptions } from "./options.js";

// What the Kafka source keeps per partition and per fetched batch. Internal to the source.

export interface PartitionState<T> extends IntakePartition {
  /** When it was assigned (`Date.now()`): see `KafkaSource.hasBacklog`. */
  readonly assignedAt: number;
  /** Next offset to emit: fetched offsets below it were emitted already (refetch guard). */
  nextOffset: number | undefined;
  /** Highest high watermark a fetched batch reported (see `KafkaSource.isCaughtUp`). */
  highWatermark: number | undefined;
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

/** The state of a partition assigned at `now`. */
export function kafkaPartition<T>(
  tp: TopicPartition,
  now: number,
): PartitionState<T> {
  return {
    ...intakePartition(tp),
    assignedAt: now,
    nextOffset: undefined,
    highWatermark: undefined,
    batches: new Set<BatchState<T>>(),
    restored: false,
    skipUntil: -1,
    fence: undefined,
  };
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

/**
 * Tracks `messages` of `ps` in offset order as batches, leaving out the offsets a restore
 * said were done already (tracked as done by `shouldSkip`, never emitted).
 */
export function trackBatches<T>(
  ps: PartitionState<T>,
  messages: readonly FetchedMessage[],
  onSettled: BatchState<T>["onSettled"],
): BatchState<T>[] {
  const states: BatchState<T>[] = [];
  const batch = (run: readonly FetchedMessage[]): void => {
    const head = run[0];
    const tail = run[run.length - 1];
    if (head === undefined || tail === undefined) return;
    states.push({
      ps,
      last: tail.offset,
      messages: run,
      done: new Uint8Array(run.length),
      handle: ps.tracker.trackBatch(head.offset, tail.offset, run.length),
      outstanding: 0,
      failed: false,
      onSettled,
    });
  };
  // Nothing to skip (no restore, or past its done ranges): the fetched run as it is.
  if (ps.skipUntil < (messages[0]?.offset ?? 0)) {
    batch(messages);
    return states;
  }
  let run: FetchedMessage[] = [];
  const flush = (): void => {
    batch(run);
    run = [];
  };
  for (const msg of messages) {
    if (msg.offset <= ps.skipUntil && ps.tracker.isDone(msg.offset)) {
      flush();
      if (ps.tracker.shouldSkip(msg.offset)) continue;
    }
    run.push(msg);
  }
  flush();
  return states;
}

/**
 * After a restore's seek, batches that start above the seek target are handed back and the
 * seek repeated this many times before one is taken: a batch fetched before the seek (from
 * a newer group commit) is gone by then, while a target no longer in the log (deleted by
 * retention, compacted) legitimately starts above it.
 */
const FENCE_RESEEKS = 3;

/**
 * A restored partition takes no batch fetched before its seek: stale ones (the driver
 * says so) are handed back, and so are, a bounded number of times with the seek repeated,
 * batches that start above the seek target (fetched from a newer group commit).
 */
export function passesFence<T>(
  ps: PartitionState<T>,
  batch: FetchedBatch,
  seek: (tp: TopicPartition, target: SeekTarget) => void,
): boolean {
  const fence = ps.fence;
  if (fence === undefined) return true;
  if (batch.isStale()) return false;
  const first = batch.messages[0];
  if (first === undefined) return false;
  if (
    typeof fence.target === "number" &&
    first.offset > fence.target &&
    fence.rejected < FENCE_RESEEKS
  ) {
    fence.rejected += 1;
    seek(ps.tp, fence.target);
    return false;
  }
  ps.fence = undefined;
  return true;
}

/** The consumer of a source, and its dead-letter producer under `onDecodeError: "dead-letter"`; not connected. */
export function sourceClients<T>(o: ResolvedKafkaSourceOptions<T>): {
  consumer: KafkaConsumerClient;
  deadLetters: KafkaProducerClient | undefined;
} {
  const client = createKafkaClient(o.client, o);
  const consumer = client.consumer({
    groupId: o.group,
    fromBeginning: o.startFrom === "earliest",
    sessionTimeoutMs: o.sessionTimeoutMs,
    heartbeatIntervalMs: o.heartbeatIntervalMs,
    rebalanceTimeoutMs: o.rebalanceTimeoutMs,
    maxWaitTimeMs: o.maxWaitTimeMs,
    maxBatchSize: o.maxBatchSize,
    maxBytesPerPartition: o.maxBytesPerPartition,
    maxBytes: o.maxBytes,
  });
  const deadLetters =
    o.onDecodeError === "dead-letter"
      ? client.producer({
          idempotent: true,
          maxInFlightRequests: 5,
          lingerMs: 5,
          compression: "none",
        })
      : undefined;
  return { consumer, deadLetters };
}

/**
 * Client-pauses exactly the partitions that must not fetch now (`blocked`) and resumes the
 * others; `clientPaused` holds what the client has paused, by key.
 */
export function syncClientPauses<T>(
  consumer: KafkaConsumerClient,
  partitions: Iterable<PartitionState<T>>,
  clientPaused: Map<string, TopicPartition>,
  blocked: (ps: PartitionState<T>) => boolean,
): void {
  const stop: TopicPartition[] = [];
  const go: TopicPartition[] = [];
  for (const ps of partitions) {
    const want = blocked(ps);
    const has = clientPaused.has(ps.key);
    if (want && !has) {
      clientPaused.set(ps.key, ps.tp);
      stop.push(ps.tp);
    } else if (!want && has) {
      clientPaused.delete(ps.key);
      go.push(ps.tp);
    }
  }
  try {
    if (stop.length > 0) consumer.pause(stop);
    if (go.length > 0) consumer.resume(go);
  } catch {
    // The driver refuses pause/resume outside an assignment; the batch handler still gates.
  }
}

/** Lag per partition that has fetched anything: high watermark minus the next offset. */
export function lagSamples<T>(
  partitions: Iterable<PartitionState<T>>,
): PartitionLagSample[] {
  const out: PartitionLagSample[] = [];
  for (const ps of partitions) {
    if (ps.dropped || ps.highWatermark === undefined) continue;
    const next = ps.nextOffset ?? ps.highWatermark;
    out.push({
      topic: ps.tp.topic,
      partition: ps.tp.partition,
      lag: Math.max(0, ps.highWatermark - next),
    });
  }
  return out;
}

/** The oldest offset of `ps` emitted and not settled (for the unsettled-records report). */
export function oldestUnsettledOffset<T>(
  ps: PartitionState<T>,
): number | undefined {
  return oldestOf(
    [...ps.batches].flatMap((b) =>
      b.messages.filter((_, i) => b.done[i] === 0).map((m) => m.offset),
    ),
  );
}

/**
 * How long after its assignment a partition that delivered no batch yet counts as having a
 * backlog (reserves its in-flight share): the drivers never hand over empty batches, so an
 * empty partition would otherwise keep its share from the partitions with records forever.
 */
const UNKNOWN_BACKLOG_MS = 5_000;

/** Whether `ps` may have records to read at `now` (see `PartitionedSource.room`). */
export function mayHaveBacklog<T>(ps: PartitionState<T>, now: number): boolean {
  if (ps.highWatermark === undefined)
    return now - ps.assignedAt < UNKNOWN_BACKLOG_MS;
  return ps.nextOffset === undefined || ps.nextOffset < ps.highWatermark;
}
