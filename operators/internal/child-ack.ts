import type { AckHandle } from "../record.js";
import type { SluiceError } from "../sluice-error.js";

/** One descendant of a parent handle that settles the parent at most once. */
class ChildAck implements AckHandle {
  private done = false;
  constructor(private readonly parent: AckHandle) {}
  get settled(): boolean {
    return this.done || this.parent.settled;
  }
  retain(count: number): void {
    if (!this.done) this.parent.retain(count);
  }
  ack(): void {
    if (this.done) return;
    this.done = true;
    this.parent.ack();
  }
  nack(error: SluiceError): void {
    if (this.done) return;
    this.done = true;
    this.parent.nack(error);
  }
}

/**
 * Splits a record's handle into `n` descendant handles: retains `n - 1` on the parent first
 * (so a descendant settled at once cannot finish the parent early), then returns one handle
 * per descendant, each settling the parent at most once (a second ack of one output does not
 * count for another). With `n = 0` the parent is acked at once: nothing will settle it.
 */
export function splitAck(parent: AckHandle, n: number): AckHandle[] {
  if (n === 0) {
    parent.ack();
    return [];
  }
  if (n > 1) parent.retain(n - 1);
  const out = new Array<AckHandle>(n);
  for (let i = 0; i < n; i++) out[i] = new ChildAck(parent);
  return out;
}
