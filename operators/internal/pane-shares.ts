import type { AckHandle } from "../record.js";
import type { SluiceError } from "../sluice-error.js";
import type { PaneAckBag } from "./ack-bag.js";

/**
 * The ack handle of one sliding-window result: one share of each handle in the prefixes of
 * the pane bags it merged. It counts its own descendants like a source handle (created with
 * one; `retain(n)` adds `n`) and settles its shares when the last is acked, so a result a
 * later step turns into several records is done only when all of them are. The first bag is
 * held in fields (most windows of a sparse key have one pane), others in one flat array.
 */
export class PaneShares implements AckHandle {
  private count = 1;
  private over = false;
  private bag: PaneAckBag | undefined;
  /** Entries of `bag` seen, and the count of its last entry then (it may grow later). */
  private length = 0;
  private last = 0;
  /** Further bags: bag, length, last, bag, length, last... */
  private more: (PaneAckBag | number)[] | undefined;

  get settled(): boolean {
    return this.over;
  }

  /** Takes a share of everything in `bag` now; false if it is empty. */
  take(bag: PaneAckBag): boolean {
    const n = bag.handles.length;
    if (n === 0) return false;
    const last = bag.counts[n - 1]!;
    if (this.bag === undefined) {
      this.bag = bag;
      this.length = n;
      this.last = last;
    } else (this.more ??= []).push(bag, n, last);
    return true;
  }

  /** The one handle with one share this stands for, if that is all it holds. */
  single(): AckHandle | undefined {
    return this.more === undefined && this.length === 1 && this.last === 1
      ? this.bag!.handles[0]
      : undefined;
  }

  retain(count: number): void {
    if (this.over) return;
    this.count += count;
    if (this.count <= 0) this.settle(undefined);
  }

  ack(): void {
    if (this.over) return;
    this.count -= 1;
    if (this.count <= 0) this.settle(undefined);
  }

  nack(error: SluiceError): void {
    if (this.over) return;
    this.settle(error);
  }

  private settle(error: SluiceError | undefined): void {
    this.over = true;
    if (this.bag === undefined) return;
    settleShare(this.bag, this.length, this.last, error);
    const more = this.more;
    if (more !== undefined)
      for (let i = 0; i < more.length; i += 3)
        settleShare(
          more[i] as PaneAckBag,
          more[i + 1] as number,
          more[i + 2] as number,
          error,
        );
  }
}

/** Acks (or nacks) each handle of `bag`'s first `length` entries as often as it was added. */
function settleShare(
  bag: PaneAckBag,
  length: number,
  last: number,
  error: SluiceError | undefined,
): void {
  const { handles, counts } = bag;
  for (let i = 0; i < length; i++) {
    const h = handles[i]!;
    for (let c = i === length - 1 ? last : counts[i]!; c > 0; c--)
      if (error === undefined) h.ack();
      else h.nack(error);
  }
}
