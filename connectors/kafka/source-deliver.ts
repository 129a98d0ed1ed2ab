import type { Subscriber } from "rxjs";
import type { Origin, Record } from "../../operators/record.js";
import type { SluiceError } from "../../operators/sluice-error.js";
import type { FetchedMessage, KafkaProducerClient } from "./client.js";
import { toKafkaError } from "./classify.js";
import { deadLetterMessage } from "./dead-letter.js";
import { closedError, decodeError } from "./errors.js";
import type { KafkaSourceMetrics } from "./metrics.js";
import type { ResolvedKafkaSourceOptions } from "./options.js";
import { RecordAck } from "./source-state.js";
import type { BatchState, PartitionState } from "./source-state.js";

/** What {@link KafkaDelivery} needs of its source (the intake core's accounting). @internal */
export interface DeliveryHost<T> {
  readonly options: ResolvedKafkaSourceOptions<T>;
  readonly metrics: KafkaSourceMetrics;
  subscriber(): Subscriber<Record<T>> | undefined;
  /** Ends the record stream with `error` (decode policy `"fail"`). */
  fail(error: SluiceError): void;
  closing(): boolean;
  deadLetters(): KafkaProducerClient | undefined;
  originOf(topic: string, partition: number, offset: number): Origin;
  emitted(ps: PartitionState<T>, n: number): void;
  settledOne(ps: PartitionState<T>): void;
  later(delayMs: number, run: () => void): void;
}

/**
 * The Kafka source's delivery of tracked batches: decodes and emits records, applies the
 * decode error policy (skip, fail, dead letter), counts settles and redelivers the
 * unacknowledged records of a nacked batch.
 * @internal
 */
export class KafkaDelivery<T> {
  constructor(private readonly host: DeliveryHost<T>) {}

  /** What each tracked batch calls when one of its records is settled. */
  readonly onSettled = (
    b: BatchState<T>,
    error: SluiceError | undefined,
  ): void => this.settled(b, error);

  /**
   * Decodes and emits the records of `state` under its current handle: those at
   * `indices`, or all of them. Values are decoded here, at each delivery, and not kept.
   */
  deliver(state: BatchState<T>, indices: readonly number[] | undefined): void {
    const { ps, messages } = state;
    const n = indices === undefined ? messages.length : indices.length;
    state.outstanding += n;
    this.host.emitted(ps, n);
    const decode = this.host.options.decode;
    const { topic, partition } = ps.tp;
    for (let j = 0; j < n; j++) {
      const i = indices === undefined ? j : indices[j]!;
      const m = messages[i]!;
      const ack = new RecordAck(state, i);
      let value: T;
      try {
        value = decode(m.value ?? Buffer.alloc(0));
      } catch (cause) {
        this.host.metrics.decodeErrors += 1;
        this.badRecord(
          ps,
          m,
          decodeError({ topic, partition, offset: m.offset }, cause),
          ack,
        );
        continue;
      }
      const subscriber = this.host.subscriber();
      if (subscriber === undefined) {
        // Nobody listens any more: fail it so it is delivered again, never lost.
        ack.nack(closedError(this.host.options.name));
        continue;
      }
      this.host.metrics.recordsIn += 1;
      // What record() builds, without its init object (one allocation less per record).
      const r: Record<T> = {
        key: m.key === null ? undefined : m.key.toString("utf8"),
        value,
        timestamp: m.timestamp,
        headers: m.headers,
        origin: this.host.originOf(topic, partition, m.offset),
        ack,
      };
      subscriber.next(r);
    }
  }

  private badRecord(
    ps: PartitionState<T>,
    m: FetchedMessage,
    error: SluiceError,
    ack: RecordAck<T>,
  ): void {
    switch (this.host.options.onDecodeError) {
      case "skip":
        this.host.metrics.skipped += 1;
        ack.ack();
        return;
      case "fail": {
        this.host.fail(error);
        return;
      }
      case "dead-letter": {
        this.host
          .deadLetters()!
          .send([
            deadLetterMessage(
              this.host.options.deadLetterTopic!,
              ps.tp,
              m,
              error,
            ),
          ])
          .then(
            () => {
              this.host.metrics.deadLettered += 1;
              ack.ack();
            },
            (e: unknown) =>
              ack.nack(
                toKafkaError(
                  e,
                  `${this.host.options.name}: dead letter not written`,
                  {
                    ...ps.tp,
                    offset: m.offset,
                    stage: "decode",
                  },
                ),
              ),
          );
        return;
      }
    }
  }

  private settled(state: BatchState<T>, error: SluiceError | undefined): void {
    const { ps } = state;
    if (ps.dropped || !ps.batches.has(state)) return;
    state.outstanding -= 1;
    if (error !== undefined) state.failed = true;
    if (state.outstanding === 0) {
      if (!state.failed) ps.batches.delete(state);
      else if (!ps.revoking && !this.host.closing()) this.redeliverLater(state);
    }
    this.host.settledOne(ps);
  }

  /** A nacked batch: once its delivery is settled, emit its failed records again under a fresh handle. */
  private redeliverLater(state: BatchState<T>): void {
    const run = (): void => {
      const { ps } = state;
      if (ps.dropped || ps.revoking || this.host.closing()) return;
      if (this.host.subscriber() === undefined) {
        // Nobody to deliver to: try again later rather than spin.
        schedule(Math.max(this.host.options.nackBackoffMs, 100));
        return;
      }
      state.handle = ps.tracker.retry(state.last);
      state.failed = false;
      const again: number[] = [];
      for (let i = 0; i < state.done.length; i++)
        if (state.done[i] === 1) state.handle.ack();
        else again.push(i);
      this.host.metrics.redelivered += again.length;
      this.deliver(state, again);
    };
    const schedule = (delayMs: number): void => this.host.later(delayMs, run);
    schedule(this.host.options.nackBackoffMs);
  }
}
