import { CommitTracker } from "../../commit-tracker.js";
import { record, type AckHandle, type Record } from "../../record.js";
import type { SluiceError } from "../../sluice-error.js";

/** A handle that counts what was done to it, for asserting how an operator settled a record. Test-only helper. */
export interface CountingAck extends AckHandle {
  readonly acks: number;
  readonly nacks: readonly SluiceError[];
  readonly retained: number;
}

/** A {@link CountingAck}: `settled` once acks reach 1 + retained, or on the first nack. */
export function countingAck(): CountingAck {
  const nacks: SluiceError[] = [];
  let acks = 0;
  let retained = 0;
  return {
    get acks() {
      return acks;
    },
    get nacks() {
      return nacks;
    },
    get retained() {
      return retained;
    },
    get settled() {
      return nacks.length > 0 || acks >= 1 + retained;
    },
    retain(count: number) {
      retained += count;
    },
    ack() {
      acks += 1;
    },
    nack(error: SluiceError) {
      nacks.push(error);
    },
  };
}

/** A record carrying a {@link countingAck}; `r.ack` is typed as one. Test-only helper. */
export function counted<T>(
  value: T,
  offset = 0,
  key?: string,
): Record<T> & { readonly ack: CountingAck } {
  const ack = countingAck();
  return {
    ...record({
      key,
      value,
      timestamp: 0,
      origin: { topic: "t", partition: 0, offset },
      ack,
    }),
    ack,
  };
}

/** Records 0..n-1 of one partition, tracked by a fresh {@link CommitTracker} as a source would. Test-only helper. */
export function trackedRecords<T>(values: readonly T[]): {
  tracker: CommitTracker;
  records: Record<T>[];
} {
  const tracker = new CommitTracker("t", 0);
  const records = values.map((value, offset) =>
    record({
      key: String(offset),
      value,
      timestamp: offset,
      origin: { topic: "t", partition: 0, offset },
      ack: tracker.track(offset),
    }),
  );
  return { tracker, records };
}
