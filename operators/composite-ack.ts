import type { AckHandle } from "./record.js";
import type { SluiceError } from "./sluice-error.js";

class CompositeAck implements AckHandle {
  private done = false;
  constructor(private readonly parents: readonly AckHandle[]) {}
  get settled(): boolean {
    return this.done;
  }
  retain(count: number): void {
    for (const p of this.parents) p.retain(count);
  }
  ack(): void {
    if (this.done) return;
    this.done = true;
    for (const p of this.parents) p.ack();
  }
  nack(error: SluiceError): void {
    if (this.done) return;
    this.done = true;
    for (const p of this.parents) p.nack(error);
  }
}

/**
 * One handle standing for many: settling it settles each parent once. A window result or a
 * batch carries the handles of the inputs it absorbed this way, so those inputs are done
 * only when the result is.
 *
 * Each parent must have counted this composite as one of its pending descendants (an input
 * absorbed into a window is that one descendant, so no `retain` is needed).
 *
 * @example
 * ```ts
 * const result = record({ key, value: count, timestamp: end, ack: compositeAck(inputs.map((r) => r.ack)) });
 * ```
 */
export function compositeAck(parents: readonly AckHandle[]): AckHandle {
  if (parents.length === 1) return parents[0]!;
  return new CompositeAck(parents);
}
