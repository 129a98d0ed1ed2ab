import type { AckHandle } from "./record.js";
import type { SluiceError } from "./sluice-error.js";

const PENDING = 0;
const DONE = 1;
const FAILED = 2;

/** A contiguous run of offsets `[from, to]`, both inclusive. */
export type OffsetRange = readonly [from: number, to: number];

/**
 * What a commit tracker knows, in a form a checkpoint can store: the commit point and the
 * offsets above it that are already done, run-length encoded. Kept by the runtime's
 * checkpoint backend, not in Kafka's commit metadata, so it has no 4 KB limit.
 */
export interface CommitTrackerSnapshot {
  readonly topic: string;
  readonly partition: number;
  /** Next offset to read: every offset below it is done. `undefined` before the first record. */
  readonly committed: number | undefined;
  /** Offsets above `committed` that are done, in ascending order. */
  readonly doneAbove: readonly OffsetRange[];
}

/** Called when a descendant of `offset` is nacked. */
export type NackListener = (offset: number, error: SluiceError) => void;

class TrackedAck implements AckHandle {
  count = 1;
  failed = false;
  constructor(
    private readonly tracker: CommitTracker,
    public slot: number,
    readonly offset: number,
  ) {}
  get settled(): boolean {
    return this.count <= 0 || this.failed;
  }
  retain(count: number): void {
    if (this.settled) return;
    this.count += count;
    if (this.count <= 0) this.tracker.settle(this);
  }
  ack(): void {
    if (this.settled) return;
    this.count -= 1;
    if (this.count === 0) this.tracker.settle(this);
  }
  nack(error: SluiceError): void {
    if (this.settled) return;
    this.failed = true;
    this.tracker.fail(this, error);
  }
}

/**
 * Tracks in-flight offsets of one partition and says how far it is safe to commit: to the
 * highest contiguous done offset, never past an unacknowledged one, whatever order the
 * records complete in.
 *
 * Offsets must be registered in the order the source reads them (ascending; gaps are fine,
 * as after compaction). Each registration returns the {@link AckHandle} for that record.
 *
 * @example
 * ```ts
 * const t = new CommitTracker("orders", 0);
 * const a = t.track(10), b = t.track(11);
 * b.ack();           // out of order: nothing committable yet
 * a.ack();           // now 10 and 11 are done
 * t.committable;     // 12
 * ```
 */
export class CommitTracker {
  private offsets = new Float64Array(1024);
  /** First offset of each slot: equal to `offsets` unless the slot is a batch. */
  private firsts = new Float64Array(1024);
  /** Records in each slot: 1 unless the slot is a batch. */
  private counts = new Uint32Array(1024);
  private states = new Uint8Array(1024);
  private handles: (TrackedAck | undefined)[] = new Array<
    TrackedAck | undefined
  >(1024);
  /** Ring buffer: slots [head, head + size) hold the tracked offsets in arrival order. */
  private head = 0;
  private size = 0;
  private committed: number | undefined;
  private lastTracked: number | undefined;
  private readonly nackListeners = new Set<NackListener>();
  private readonly progressListeners = new Set<(committable: number) => void>();
  private skip: OffsetRange[] = [];

  constructor(
    readonly topic: string,
    readonly partition: number,
  ) {}

  /** Registers the next offset read from the partition and returns its ack handle. */
  track(offset: number): AckHandle {
    return this.trackBatch(offset, offset, 1);
  }

  /**
   * Registers a batch read together, offsets `first..last` holding `count` records, and
   * returns one handle for all of them with `count` pending descendants: each record of the
   * batch settles it once. One allocation per batch instead of per record; the batch
   * becomes committable when every record in it is done.
   *
   * @example
   * ```ts
   * const handle = tracker.trackBatch(100, 199, 100);
   * const records = values.map((v, i) => record({ value: v, timestamp, origin: { topic, partition, offset: 100 + i }, ack: handle }));
   * ```
   */
  trackBatch(first: number, last: number, count: number): AckHandle {
    if (this.lastTracked !== undefined && first <= this.lastTracked) {
      throw new RangeError(
        `${this.topic}[${this.partition}]: offset ${first} tracked after ${this.lastTracked}; offsets must ascend`,
      );
    }
    if (last < first || count < 1)
      throw new RangeError(
        `${this.topic}[${this.partition}]: empty or inverted batch ${first}..${last} (${count} records)`,
      );
    this.lastTracked = last;
    if (this.size === this.offsets.length) this.grow();
    const slot = (this.head + this.size) & (this.offsets.length - 1);
    this.offsets[slot] = last;
    this.firsts[slot] = first;
    this.counts[slot] = count;
    this.states[slot] = PENDING;
    const handle = new TrackedAck(this, slot, last);
    handle.count = count;
    this.handles[slot] = handle;
    this.size += 1;
    return handle;
  }

  /**
   * After a failure the source delivers `offset` again: returns a fresh handle for it (for
   * a batch, `offset` is its last offset and the handle counts the whole batch again).
   * The offset must still be tracked and failed.
   */
  retry(offset: number): AckHandle {
    const slot = this.slotOf(offset);
    if (slot === undefined || this.states[slot] !== FAILED) {
      throw new RangeError(
        `${this.topic}[${this.partition}]: offset ${offset} is not a failed, tracked offset`,
      );
    }
    this.states[slot] = PENDING;
    const handle = new TrackedAck(this, slot, offset);
    handle.count = this.counts[slot]!;
    this.handles[slot] = handle;
    return handle;
  }

  /** The offset to commit (next to read), or `undefined` if nothing has completed yet. */
  get committable(): number | undefined {
    return this.committed;
  }

  /** Number of tracked offsets not yet committable (pending, done out of order, or failed). */
  get inFlight(): number {
    return this.size;
  }

  /** Offsets whose handles were nacked and not yet retried, ascending. */
  get failedOffsets(): number[] {
    const out: number[] = [];
    const mask = this.offsets.length - 1;
    for (let i = 0; i < this.size; i++) {
      const slot = (this.head + i) & mask;
      if (this.states[slot] === FAILED) out.push(this.offsets[slot]!);
    }
    return out;
  }

  /** True when some offset above the commit point is done but cannot be committed yet. */
  isDone(offset: number): boolean {
    if (this.committed !== undefined && offset < this.committed) return true;
    const slot = this.slotOf(offset);
    if (slot !== undefined) return this.states[slot] === DONE;
    return this.skip.some(([from, to]) => offset >= from && offset <= to);
  }

  /** Listens for nacks; returns a function that removes the listener. */
  onNack(listener: NackListener): () => void {
    this.nackListeners.add(listener);
    return () => this.nackListeners.delete(listener);
  }

  /** Listens for advances of the commit point; returns a function that removes the listener. */
  onProgress(listener: (committable: number) => void): () => void {
    this.progressListeners.add(listener);
    return () => this.progressListeners.delete(listener);
  }

  /** The commit point and the done offsets above it, for a checkpoint. */
  snapshot(): CommitTrackerSnapshot {
    const ranges: [number, number][] = [];
    const mask = this.offsets.length - 1;
    for (let i = 0; i < this.size; i++) {
      const slot = (this.head + i) & mask;
      if (this.states[slot] !== DONE) continue;
      const first = this.firsts[slot]!;
      const offset = this.offsets[slot]!;
      const last = ranges[ranges.length - 1];
      if (last !== undefined && last[1] === first - 1) last[1] = offset;
      else ranges.push([first, offset]);
    }
    for (const r of this.skip) ranges.push([r[0], r[1]]);
    ranges.sort((a, b) => a[0] - b[0]);
    return {
      topic: this.topic,
      partition: this.partition,
      committed: this.committed,
      doneAbove: ranges,
    };
  }

  /**
   * Starts from a checkpoint: the commit point, and offsets above it the source should
   * skip because they were already done ({@link shouldSkip}).
   */
  restore(snapshot: CommitTrackerSnapshot): void {
    if (this.size > 0)
      throw new Error(
        `${this.topic}[${this.partition}]: restore on a tracker with records in flight`,
      );
    this.committed = snapshot.committed;
    this.lastTracked =
      snapshot.committed === undefined ? undefined : snapshot.committed - 1;
    this.skip = snapshot.doneAbove.map(
      ([from, to]) => [from, to] as [number, number],
    );
  }

  /**
   * True if `offset` was already done before a restore: the source drops it without
   * emitting, and the tracker counts it as done.
   */
  shouldSkip(offset: number): boolean {
    for (const [from, to] of this.skip) {
      if (offset >= from && offset <= to) {
        const handle = this.track(offset);
        handle.ack();
        return true;
      }
    }
    return false;
  }

  /** @internal */
  settle(handle: TrackedAck): void {
    if (this.handles[handle.slot] !== handle) return;
    this.states[handle.slot] = DONE;
    this.handles[handle.slot] = undefined;
    if (handle.slot === this.head) this.advance();
  }

  /** @internal */
  fail(handle: TrackedAck, error: SluiceError): void {
    if (this.handles[handle.slot] !== handle) return;
    this.states[handle.slot] = FAILED;
    this.handles[handle.slot] = undefined;
    for (const listener of this.nackListeners) listener(handle.offset, error);
  }

  private advance(): void {
    const mask = this.offsets.length - 1;
    let moved = false;
    while (this.size > 0 && this.states[this.head] === DONE) {
      this.committed = this.offsets[this.head]! + 1;
      this.head = (this.head + 1) & mask;
      this.size -= 1;
      moved = true;
    }
    if (this.skip.length > 0 && this.committed !== undefined) {
      const c = this.committed;
      this.skip = this.skip.filter(([, to]) => to >= c);
    }
    if (moved && this.committed !== undefined) {
      for (const listener of this.progressListeners) listener(this.committed);
    }
  }

  private slotOf(offset: number): number | undefined {
    // Offsets ascend through the ring, so a binary search finds the slot.
    const mask = this.offsets.length - 1;
    let lo = 0;
    let hi = this.size - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const slot = (this.head + mid) & mask;
      const value = this.offsets[slot]!;
      if (value === offset) return slot;
      if (value < offset) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  }

  private grow(): void {
    const capacity = this.offsets.length * 2;
    const offsets = new Float64Array(capacity);
    const firsts = new Float64Array(capacity);
    const counts = new Uint32Array(capacity);
    const states = new Uint8Array(capacity);
    const handles = new Array<TrackedAck | undefined>(capacity);
    const mask = this.offsets.length - 1;
    for (let i = 0; i < this.size; i++) {
      const from = (this.head + i) & mask;
      offsets[i] = this.offsets[from]!;
      firsts[i] = this.firsts[from]!;
      counts[i] = this.counts[from]!;
      states[i] = this.states[from]!;
      const h = this.handles[from];
      if (h !== undefined) h.slot = i;
      handles[i] = h;
    }
    this.offsets = offsets;
    this.firsts = firsts;
    this.counts = counts;
    this.states = states;
    this.handles = handles;
    this.head = 0;
  }
}
