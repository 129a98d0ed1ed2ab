import { Subscription } from "rxjs";
import { afterEach, expect } from "vitest";
import type { Record } from "../../operators/record.js";
import type { Source } from "../types.js";
import type {
  ConformanceSourceOptions,
  SourceHarness,
  TestRecord,
} from "./harness.js";

export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls `condition` every 10 ms until it holds or `timeoutMs` passes, then fails naming `what`.
 *
 * @example
 * ```ts
 * await waitFor(() => seen.length === 10, 5_000, "ten records");
 * ```
 */
export async function waitFor(
  condition: () => boolean,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

/** A subscription to `source.records()` that keeps what arrived and, by default, acks it. */
export interface Collector {
  readonly received: Record<string>[];
  readonly held: Record<string>[];
  completed: boolean;
  error: unknown;
  hold: boolean;
  ackHeld(filter?: (r: Record<string>) => boolean): void;
  readonly subscription: Subscription;
}

export function collect(source: Source<string>, hold = false): Collector {
  const c: Collector = {
    received: [],
    held: [],
    completed: false,
    error: undefined,
    hold,
    ackHeld(filter = () => true) {
      const keep: Record<string>[] = [];
      for (const r of c.held.splice(0)) {
        if (filter(r)) r.ack.ack();
        else keep.push(r);
      }
      c.held.push(...keep);
    },
    subscription: new Subscription(),
  };
  c.subscription.add(
    source.records().subscribe({
      next: (r) => {
        c.received.push(r);
        if (c.hold) c.held.push(r);
        else r.ack.ack();
      },
      complete: () => {
        c.completed = true;
      },
      error: (e: unknown) => {
        c.error = e;
      },
    }),
  );
  return c;
}

export const values = (rs: readonly { readonly value: string }[]): string[] =>
  rs.map((r) => r.value);

/** `count` records over `keys` keys, values `<key>:<seq>` with a per-key sequence. */
export function testRecords(
  count: number,
  keys: number,
  prefix: string,
): TestRecord[] {
  const seq = new Map<string, number>();
  return Array.from({ length: count }, (_, i) => {
    const key = `${prefix}-k${i % keys}`;
    const n = seq.get(key) ?? 0;
    seq.set(key, n + 1);
    return { key, value: `${key}:${n}` };
  });
}

export function expectPerKeyOrder(
  rs: readonly { readonly key: string | undefined; readonly value: string }[],
): void {
  const last = new Map<string, number>();
  for (const r of rs) {
    const seq = Number(r.value.slice(r.value.lastIndexOf(":") + 1));
    const key = r.key ?? "";
    const prev = last.get(key);
    if (prev !== undefined)
      expect(seq, `key ${key}: ${seq} after ${prev}`).toBeGreaterThan(prev);
    last.set(key, seq);
  }
}

/** What a source suite's tests share: the harness, sources and subscriptions to end after each test. */
export interface SourceSuite {
  /** Creates this test's harness (a topic with at least 2 partitions). */
  readonly setup: () => Promise<SourceHarness>;
  /** A source of `h` with the suite's defaults (maxInFlight 100, lowWatermark 50, drainTimeoutMs 500). */
  readonly source: (
    h: SourceHarness,
    o: Partial<ConformanceSourceOptions> & { group: string },
  ) => Promise<Source<string>>;
  /** Ends `c`'s subscription after the test. */
  readonly track: (c: Collector) => Collector;
  /** Subscriptions ended after the test. */
  readonly subscriptions: Subscription[];
}

/**
 * Registers an `afterEach` that unsubscribes, closes every source and cleans the harness up,
 * and returns what the tests of a source suite share. Call it inside `describe`.
 */
export function sourceSuite(
  factory: () => Promise<SourceHarness>,
): SourceSuite {
  const open: Source<string>[] = [];
  const subscriptions: Subscription[] = [];
  let harness: SourceHarness | undefined;
  afterEach(async () => {
    for (const s of subscriptions.splice(0)) s.unsubscribe();
    await Promise.all(
      open.splice(0).map((s) => s.close().catch(() => undefined)),
    );
    await harness?.cleanup();
    harness = undefined;
  });
  return {
    subscriptions,
    setup: async () => {
      harness = await factory();
      expect(
        harness.partitions,
        "the harness topic needs at least 2 partitions",
      ).toBeGreaterThanOrEqual(2);
      return harness;
    },
    source: async (h, o) => {
      const s = await h.createSource({
        maxInFlight: 100,
        lowWatermark: 50,
        drainTimeoutMs: 500,
        ...o,
      });
      open.push(s);
      return s;
    },
    track: (c) => {
      subscriptions.push(c.subscription);
      return c;
    },
  };
}
