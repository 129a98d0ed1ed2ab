import type { Subscription } from "rxjs";
import type { CommitTrackerSnapshot } from "../../operators/commit-tracker.js";
import { record } from "../../operators/record.js";
import type { AckHandle } from "../../operators/record.js";
import type { SluiceError } from "../../operators/sluice-error.js";
import { toSluiceError } from "../../operators/sluice-error.js";
import type { TopicPartition } from "../types.js";
import { intakePartition, PartitionedSource } from "../internal/intake.js";
import type { IntakePartition } from "../internal/intake.js";
import { tpKey } from "../internal/partition-key.js";
import { oldestOf } from "../internal/unsettled.js";
import { closedError, memberCrashed } from "./errors.js";
import type { LogRecord, MemoryLog } from "./log.js";
import { resolveMemorySourceOptions } from "./options.js";
import type {
  MemorySourceOptions,
  ResolvedMemorySourceOptions,
} from "./options.js";

/** What the source knows about one partition it owns. */
interface PartitionState extends IntakePartition {
  /** Next offset to read from the log. */
  position: number;
  /** End offset when the partition was assigned (for `stopAtEnd`). */
  readonly endMark: number;
  /** Records emitted and not acked (kept for redelivery after a nack), by offset. */
  readonly pending: Map<number, LogRecord>;
  /** Nacked offsets whose backoff is over, waiting to be emitted again. */
  readonly redeliver: number[];
  /** Nacked offsets still in their backoff. */
  backoffs: number;
}

/** Wraps a tracker handle to tell the source when its record is settled. */
class SourceAck implements AckHandle {
  constructor(
    private readonly inner: AckHandle,
    private readonly onSettled: (error: SluiceError | undefined) => void,
  ) {}
  get settled(): boolean {
    return this.inner.settled;
  }
  retain(count: number): void {
    if (this.inner.settled) return;
    this.inner.retain(count);
    if (this.inner.settled) this.onSettled(undefined);
  }
  ack(): void {
    if (this.inner.settled) return;
    this.inner.ack();
    if (this.inner.settled) this.onSettled(undefined);
  }
  nack(error: SluiceError): void {
    if (this.inner.settled) return;
    this.inner.nack(error);
    this.onSettled(error);
  }
}

/**
 * The memory connector's source: one consumer-group member over a {@link MemoryLog}, on the
 * shared intake core (`connectors/internal/intake.ts`). Build it with {@link memorySource}.
 */
export class MemorySource<T> extends PartitionedSource<T, PartitionState> {
  private readonly options: ResolvedMemorySourceOptions;
  private memberId: string | undefined;
  private connecting: Promise<void> | undefined;
  private joined = false;
  private crashed = false;
  private pumpScheduled = false;
  private pumpTask: Subscription | undefined;
  private stopAppend: (() => void) | undefined;

  constructor(
    private readonly log: MemoryLog,
    options: MemorySourceOptions,
  ) {
    const resolved = resolveMemorySourceOptions(options);
    super(resolved, resolved.scheduler);
    this.options = resolved;
  }

  /** The member id in the log's group, once connected (for `log.crash(id)` in tests). */
  get member(): string | undefined {
    return this.memberId;
  }

  connect(): Promise<void> {
    if (this.closing !== undefined)
      return Promise.reject(closedError(this.name));
    this.connecting ??= this.join();
    return this.connecting;
  }

  /**
   * Whether this source has emitted every record of an owned partition that the log holds
   * (no lag, nothing waiting for redelivery); `undefined` for a partition it does not own.
   * For `withWatermarks({ isCaughtUp })`: a silent partition with a backlog is not idle.
   *
   * @example
   * ```ts
   * withWatermarks({ maxOutOfOrdernessMs: 5_000, idleTimeoutMs: 10_000, isCaughtUp: (tp) => source.isCaughtUp(tp) });
   * ```
   */
  isCaughtUp(tp: TopicPartition): boolean | undefined {
    const ps = this.partitions.get(tpKey(tp.topic, tp.partition));
    if (ps === undefined) return undefined;
    return !this.hasBacklog(ps);
  }

  protected override startIntake(): Promise<void> {
    return this.connect().then(() => {
      this.schedulePump();
      this.checkEnd();
    });
  }

  protected override startError(error: unknown): SluiceError {
    return toSluiceError(error, "CONNECTION", { stage: "source" });
  }

  protected override intakeChanged(): void {
    this.schedulePump();
  }

  protected override holdsRecords(ps: PartitionState): boolean {
    return ps.pending.size > 0;
  }

  protected override oldestUnsettled(ps: PartitionState): number | undefined {
    return oldestOf(ps.pending.keys());
  }

  protected override hasBacklog(ps: PartitionState): boolean {
    return (
      ps.redeliver.length > 0 ||
      ps.position < this.log.endOffset(ps.tp.topic, ps.tp.partition)
    );
  }

  protected override restored(
    ps: PartitionState,
    s: CommitTrackerSnapshot,
  ): void {
    const start = this.log.startOffset(s.topic, s.partition);
    ps.position =
      s.committed !== undefined
        ? Math.max(s.committed, start)
        : this.options.startFrom === "earliest"
          ? start
          : this.log.endOffset(s.topic, s.partition);
  }

  protected override commitStates(
    states: readonly PartitionState[],
    final: boolean,
  ): Promise<void> {
    try {
      this.commitPartitions(states);
      return Promise.resolve();
    } catch (error) {
      // Rejected commits (a member fenced by a rebalance) are retried by the next owner,
      // which starts from the last accepted commit: at-least-once holds.
      if (final) return Promise.resolve();
      return Promise.reject(
        toSluiceError(error, "INTERNAL", { stage: "commit" }),
      );
    }
  }

  protected override async settleStart(): Promise<boolean> {
    if (this.connecting !== undefined) {
      try {
        await this.connecting;
      } catch {
        // A failed join leaves nothing to drain or leave.
      }
    }
    return this.memberId !== undefined && !this.crashed;
  }

  protected override async disconnect(): Promise<void> {
    if (this.memberId !== undefined && !this.crashed)
      await this.log.leave(this.memberId);
    this.stopAppend?.();
  }

  protected override lost(): boolean {
    return this.crashed;
  }

  protected override refusal(): SluiceError | undefined {
    return this.crashed ? memberCrashed(this.memberId ?? "?") : undefined;
  }

  protected override afterRevoke(): void {
    this.checkEnd();
  }

  protected override stopping(): void {
    this.pumpTask?.unsubscribe();
  }

  private async join(): Promise<void> {
    this.stopAppend = this.log.onAppend((topic, partition) => {
      if (this.partitions.has(tpKey(topic, partition))) this.schedulePump();
    });
    const membership = this.log.join(
      this.options.group,
      this.options.topics,
      {
        onAssign: (partitions) => this.assigned(partitions),
        onRevoke: (partitions) => this.revoke(partitions),
        onCrash: () => this.crash(),
      },
      this.options.clientId,
    );
    this.memberId = membership.memberId;
    await membership.ready;
    this.joined = true;
    this.startCommitTimer();
  }

  private assigned(partitions: readonly TopicPartition[]): void {
    if (this.crashed) return;
    this.adopt(
      partitions.map((tp) => {
        const committed = this.log.committed(
          this.options.group,
          tp.topic,
          tp.partition,
        );
        const start = this.log.startOffset(tp.topic, tp.partition);
        const end = this.log.endOffset(tp.topic, tp.partition);
        return {
          ...intakePartition(tp),
          position:
            committed !== undefined
              ? Math.max(committed, start)
              : this.options.startFrom === "earliest"
                ? start
                : end,
          endMark: end,
          pending: new Map(),
          redeliver: [],
          backoffs: 0,
          lastCommitted: committed,
        };
      }),
    );
  }

  private crash(): void {
    this.crashed = true;
    this.timers.unsubscribe();
    this.pumpTask?.unsubscribe();
    for (const ps of this.partitions.values()) ps.dropped = true;
    this.partitions.clear();
    this.inFlightCount = 0;
    this.waiters.wake();
    const subscriber = this.subscriber;
    this.subscriber = undefined;
    subscriber?.error(memberCrashed(this.memberId ?? "?"));
    this.events.complete();
  }

  private commitPartitions(states: readonly PartitionState[]): void {
    if (this.memberId === undefined || this.crashed) return;
    const offsets: { topic: string; partition: number; offset: number }[] = [];
    for (const ps of states) {
      const c = ps.tracker.committable;
      if (c !== undefined && !ps.dropped && c !== ps.lastCommitted)
        offsets.push({ ...ps.tp, offset: c });
    }
    if (offsets.length === 0) return;
    this.log.commit(this.memberId, offsets);
    for (const ps of states) {
      const c = ps.tracker.committable;
      if (c !== undefined) ps.lastCommitted = c;
    }
  }

  private settled(
    ps: PartitionState,
    offset: number,
    error: SluiceError | undefined,
  ): void {
    if (ps.dropped) return;
    if (error === undefined) ps.pending.delete(offset);
    else if (!ps.revoking && this.closing === undefined)
      this.scheduleRedelivery(ps, offset);
    this.settledOne(ps);
  }

  private scheduleRedelivery(ps: PartitionState, offset: number): void {
    const run = (): void => {
      ps.backoffs -= 1;
      if (ps.dropped || ps.revoking || this.closing !== undefined) return;
      ps.redeliver.push(offset);
      ps.redeliver.sort((a, b) => a - b);
      this.schedulePump();
    };
    ps.backoffs += 1;
    const delay = this.options.nackBackoffMs;
    if (delay <= 0) run();
    else this.later(delay, run);
  }

  private schedulePump(): void {
    if (
      this.pumpScheduled ||
      this.subscriber === undefined ||
      this.closing !== undefined ||
      this.crashed
    )
      return;
    this.pumpScheduled = true;
    const task = this.options.scheduler.schedule(() => this.pump(), 0);
    if (this.pumpScheduled) this.pumpTask = task;
  }

  private canEmit(ps: PartitionState): boolean {
    return this.subscriber?.closed === false && !this.blocked(ps);
  }

  private pump(): void {
    this.pumpScheduled = false;
    this.pumpTask = undefined;
    let budget = this.options.fetchMaxRecords;
    let progressed = true;
    while (progressed && budget > 0) {
      progressed = false;
      for (const ps of [...this.partitions.values()]) {
        while (budget > 0 && ps.redeliver.length > 0 && this.canEmit(ps)) {
          const offset = ps.redeliver.shift()!;
          const rec = ps.pending.get(offset);
          if (rec === undefined) continue;
          this.emit(ps, rec, ps.tracker.retry(offset));
          budget -= 1;
          progressed = true;
        }
        if (budget <= 0 || !this.canEmit(ps)) continue;
        ps.position = Math.max(
          ps.position,
          this.log.startOffset(ps.tp.topic, ps.tp.partition),
        );
        const room = Math.min(budget, this.room(ps), 64);
        if (room <= 0) continue;
        for (const rec of this.log.read(
          ps.tp.topic,
          ps.tp.partition,
          ps.position,
          room,
        )) {
          if (!this.canEmit(ps)) break;
          ps.position = rec.offset + 1;
          if (ps.tracker.shouldSkip(rec.offset)) continue;
          this.emit(ps, rec, ps.tracker.track(rec.offset));
          budget -= 1;
          progressed = true;
        }
      }
    }
    if (budget <= 0) this.schedulePump();
    this.checkEnd();
  }

  private emit(ps: PartitionState, rec: LogRecord, handle: AckHandle): void {
    this.emitted(ps, 1);
    ps.pending.set(rec.offset, rec);
    const ack = new SourceAck(handle, (error) =>
      this.settled(ps, rec.offset, error),
    );
    this.subscriber!.next(
      record<T>({
        key: rec.key,
        // The memory log stores values as given; the source trusts its type parameter.
        value: rec.value as T,
        timestamp: rec.timestamp,
        headers: rec.headers,
        origin: this.originOf(rec.topic, rec.partition, rec.offset),
        ack,
      }),
    );
  }

  /** With `stopAtEnd`: completes once every owned partition is read to its end mark. */
  private checkEnd(): void {
    const subscriber = this.subscriber;
    if (!this.options.stopAtEnd || !this.joined || subscriber === undefined)
      return;
    for (const ps of this.partitions.values()) {
      if (
        ps.position < ps.endMark ||
        ps.redeliver.length > 0 ||
        ps.backoffs > 0
      )
        return;
    }
    this.subscriber = undefined;
    subscriber.complete();
  }
}

/**
 * A {@link Source} over a {@link MemoryLog}: one member of a consumer group that emits the
 * records of its assigned partitions in offset order, with ack handles from a commit tracker
 * per partition, commits only what is done, pauses at `maxInFlight` unsettled records,
 * redelivers nacked records and drains on revoke and close.
 *
 * @example
 * ```ts
 * const log = new MemoryLog();
 * log.createTopic("orders", { partitions: 3 });
 * const source = memorySource<Order>(log, { group: "billing", topics: ["orders"], maxInFlight: 500 });
 * source.records().subscribe((r) => { bill(r.value); r.ack.ack(); });
 * // later
 * await source.close(); // drains, commits, leaves the group
 * ```
 */
export function memorySource<T>(
  log: MemoryLog,
  options: MemorySourceOptions,
): MemorySource<T> {
  return new MemorySource<T>(log, options);
}
