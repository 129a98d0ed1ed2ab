import { TestScheduler } from "rxjs/testing";
import { expect } from "vitest";
import { record, type AckHandle, type Record } from "../../record.js";

/** A TestScheduler that compares with vitest's deep equality. Test-only helper. */
export function testScheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => {
    expect(actual).toEqual(expected);
  });
}

/** A record with a key, a value and, optionally, an origin offset and an ack handle. Test-only helper. */
export function rec<T>(
  key: string | undefined,
  value: T,
  offset = 0,
  ack?: AckHandle,
  partition = 0,
): Record<T> {
  const init = {
    key,
    value,
    timestamp: 0,
    origin: { topic: "t", partition, offset },
  };
  return record(ack === undefined ? init : { ...init, ack });
}
