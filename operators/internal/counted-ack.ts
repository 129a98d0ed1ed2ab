import type { AckHandle } from "../record.js";
import type { SluiceError } from "../sluice-error.js";

/** What a {@link countedAck} reports once, when its descendants are all done or one failed. */
export interface CountedAckHooks {
  done(): void;
  failed(error: SluiceError): void;
}

class CountedAck implements AckHandle {
  private count = 1;
  private over = false;
  constructor(private readonly hooks: CountedAckHooks) {}
  get settled(): boolean {
    return this.over;
  }
  retain(count: number): void {
    if (this.over) return;
    this.count += count;
    if (this.count <= 0) this.finish();
  }
  ack(): void {
    if (this.over) return;
    this.count -= 1;
    if (this.count <= 0) this.finish();
  }
  nack(error: SluiceError): void {
    if (this.over) return;
    this.over = true;
    this.hooks.failed(error);
  }
  private finish(): void {
    this.over = true;
    this.hooks.done();
  }
}

/**
 * A handle standing in for one pending descendant of a parent handle: it counts its own
 * descendants and calls `done` once all are acked, or `failed` on the first nack. The hooks
 * decide when and how the parent is settled (after a confirm, after releasing a key).
 */
export function countedAck(hooks: CountedAckHooks): AckHandle {
  return new CountedAck(hooks);
}
