import type { AckHandle } from "../record.js";
import type { SluiceError } from "../sluice-error.js";

/** Settles each parent `counts[i]` times: one handle for many absorbed descendants. */
class RepeatedAck implements AckHandle {
  private done = false;
  constructor(
    private readonly parents: readonly AckHandle[],
    private readonly counts: readonly number[],
  ) {}
  get settled(): boolean {
    return this.done;
  }
  retain(count: number): void {
    for (let i = 0; i < this.parents.length; i++)
      this.parents[i]!.retain(count * this.counts[i]!);
  }
  ack(): void {
    if (this.done) return;
    this.done = true;
    for (let i = 0; i < this.parents.length; i++) {
      const p = this.parents[i]!;
      for (let c = this.counts[i]!; c > 0; c--) p.ack();
    }
  }
  nack(error: SluiceError): void {
    if (this.done) return;
    this.done = true;
    for (let i = 0; i < this.parents.length; i++) {
      const p = this.parents[i]!;
      for (let c = this.counts[i]!; c > 0; c--) p.nack(error);
    }
  }
}

/**
 * The ack handles absorbed into one window since its last emission. Consecutive records
 * sharing a handle (a source's batch handle) are run-length counted, so absorbing costs a
 * comparison and an increment, not an array slot.
 */
export class AckBag {
  private handles: AckHandle[] = [];
  private counts: number[] = [];

  get empty(): boolean {
    return this.handles.length === 0;
  }

  add(handle: AckHandle): void {
    const n = this.handles.length;
    if (n > 0 && this.handles[n - 1] === handle) this.counts[n - 1]! += 1;
    else {
      this.handles.push(handle);
      this.counts.push(1);
    }
  }

  /** Moves every handle of `other` into this bag. */
  absorb(other: AckBag): void {
    for (let i = 0; i < other.handles.length; i++) {
      const h = other.handles[i]!;
      for (let c = other.counts[i]!; c > 0; c--) this.add(h);
    }
    other.handles = [];
    other.counts = [];
  }

  /** One handle standing for everything in the bag, which is left empty. */
  take(): AckHandle {
    const handles = this.handles;
    const counts = this.counts;
    this.handles = [];
    this.counts = [];
    if (handles.length === 1 && counts[0] === 1) return handles[0]!;
    return new RepeatedAck(handles, counts);
  }
}

/**
 * The pending handles of one pane of a sliding window, shared by every window the pane is
 * in. It only grows: a window firing takes a {@link PaneShares} share of the prefix it has
 * seen, and records added later belong to later windows only.
 */
export class PaneAckBag {
  readonly handles: AckHandle[] = [];
  readonly counts: number[] = [];

  add(handle: AckHandle): void {
    const n = this.handles.length;
    if (n > 0 && this.handles[n - 1] === handle) this.counts[n - 1]! += 1;
    else {
      this.handles.push(handle);
      this.counts.push(1);
    }
  }
}

/**
 * One handle settling, once, one share of each handle in the prefixes of pane bags it was
 * given: the result of a window that merged those panes.
 */
export class PaneShares implements AckHandle {
  private done = false;
  private readonly bags: PaneAckBag[] = [];
  /** Entries of each bag seen, and the count of its last entry then (it may grow later). */
  private readonly lengths: number[] = [];
  private readonly lasts: number[] = [];

  get settled(): boolean {
    return this.done;
  }

  /** Takes a share of everything in `bag` now; false if it is empty. */
  take(bag: PaneAckBag): boolean {
    const n = bag.handles.length;
    if (n === 0) return false;
    this.bags.push(bag);
    this.lengths.push(n);
    this.lasts.push(bag.counts[n - 1]!);
    return true;
  }

  /** The one handle with one share this stands for, if that is all it holds. */
  single(): AckHandle | undefined {
    return this.bags.length === 1 &&
      this.lengths[0] === 1 &&
      this.lasts[0] === 1
      ? this.bags[0]!.handles[0]
      : undefined;
  }

  private each(fn: (handle: AckHandle, count: number) => void): void {
    for (let b = 0; b < this.bags.length; b++) {
      const { handles, counts } = this.bags[b]!;
      const last = this.lengths[b]! - 1;
      for (let i = 0; i < last; i++) fn(handles[i]!, counts[i]!);
      fn(handles[last]!, this.lasts[b]!);
    }
  }

  retain(count: number): void {
    this.each((h, c) => h.retain(count * c));
  }

  ack(): void {
    if (this.done) return;
    this.done = true;
    this.each((h, c) => {
      for (; c > 0; c--) h.ack();
    });
  }

  nack(error: SluiceError): void {
    if (this.done) return;
    this.done = true;
    this.each((h, c) => {
      for (; c > 0; c--) h.nack(error);
    });
  }
}
