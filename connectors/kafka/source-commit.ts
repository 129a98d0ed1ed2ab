import { SluiceError } from "../../operators/sluice-error.js";
import type { KafkaConsumerClient, OffsetCommit } from "./client.js";
import { toKafkaError } from "./classify.js";
import type { KafkaSourceMetrics } from "./metrics.js";
import { commitPoint } from "./source-state.js";
import type { PartitionState } from "./source-state.js";

/**
 * Commits the source's commit points, one commit at a time and in order, so a late commit
 * never overwrites a newer one; only partitions whose point moved are sent.
 * @internal
 */
export class OffsetCommitter<T> {
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly name: string,
    private readonly consumer: () => KafkaConsumerClient | undefined,
    private readonly metrics: KafkaSourceMetrics,
  ) {}

  /** Commits what is done on `states`; rejects with a classified {@link SluiceError}. */
  commit(states: readonly PartitionState<T>[]): Promise<void> {
    const next = this.chain.then(() => this.run(states));
    this.chain = next.catch(() => undefined);
    return next;
  }

  /**
   * Revoke and close commits: retried while the broker answers with a retryable error
   * (a rebalance in progress while kafkajs rejoins), for at most `budgetMs`. Gives up
   * quietly: the next owner then starts from the previous commit (at-least-once).
   */
  async commitWithRetry(
    states: readonly PartitionState<T>[],
    budgetMs: number,
  ): Promise<void> {
    const deadline = Date.now() + budgetMs;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.commit(states);
        return;
      } catch (error) {
        const retryable = error instanceof SluiceError && error.retryable;
        if (!retryable || Date.now() > deadline) return;
        await new Promise<void>((resolve) =>
          setTimeout(resolve, Math.min(50 * 2 ** attempt, 500)),
        );
      }
    }
  }

  private async run(states: readonly PartitionState<T>[]): Promise<void> {
    const consumer = this.consumer();
    if (consumer === undefined) return;
    const offsets: OffsetCommit[] = [];
    const marks: [PartitionState<T>, number][] = [];
    for (const ps of states) {
      const c = commitPoint(ps);
      if (c === undefined || ps.dropped || c === ps.lastCommitted) continue;
      offsets.push({ ...ps.tp, offset: c });
      marks.push([ps, c]);
    }
    if (offsets.length === 0) return;
    try {
      await consumer.commit(offsets);
    } catch (error) {
      this.metrics.commitErrors += 1;
      throw toKafkaError(error, `${this.name}: commit failed`, {
        stage: "commit",
      });
    }
    this.metrics.commits += 1;
    for (const [ps, c] of marks) ps.lastCommitted = c;
  }
}
