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
