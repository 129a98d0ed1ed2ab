import { from, lastValueFrom, toArray } from "rxjs";
import { describe, expect, it } from "vitest";
import { record } from "../operators/record.js";
import type { AckHandle, Record } from "../operators/record.js";
import type { SluiceError } from "../operators/sluice-error.js";
import type { OutgoingRecord, Sink } from "./types.js";
import { writeTo } from "./write-to.js";

function counted(): AckHandle & { acks: number; nacks: SluiceError[] } {
  const h = {
    acks: 0,
    nacks: [] as SluiceError[],
    settled: false,
    retain: () => undefined,
    ack: () => {
      h.acks += 1;
    },
    nack: (e: SluiceError) => {
      h.nacks.push(e);
    },
  };
  return h;
}

function recordingSink(
  options: {
    maxInFlight?: number;
    fail?: (batch: readonly OutgoingRecord<number>[]) => boolean;
    delayMs?: number;
  } = {},
) {
  const batches: OutgoingRecord<number>[][] = [];
  let active = 0;
  const stats = { maxActive: 0 };
  const sink: Sink<number> = {
    name: "recording",
    maxInFlight: options.maxInFlight ?? 1,
    connect: () => Promise.resolve(),
    flush: () => Promise.resolve(),
    close: () => Promise.resolve(),
    write: async (batch) => {
      active += 1;
      stats.maxActive = Math.max(stats.maxActive, active);
      await new Promise((resolve) => setTimeout(resolve, options.delayMs ?? 0));
      active -= 1;
      if (options.fail?.(batch) === true) throw new Error("disk full");
      batches.push([...batch]);
    },
  };
  return { sink, batches, stats };
}

const input = (n: number, ack?: AckHandle): Record<number>[] =>
  Array.from({ length: n }, (_, i) =>
    record({
      key: `k${i % 3}`,
      value: i,
      timestamp: i,
      ...(ack !== undefined ? { ack } : {}),
    }),
  );

describe("writeTo", () => {
  it("writes nothing and emits nothing for an empty stream", async () => {
    const { sink, batches } = recordingSink();
    expect(
      await lastValueFrom(
        from(input(0)).pipe(writeTo(sink, { maxBatch: 10 }), toArray()),
      ),
    ).toEqual([]);
    expect(batches).toEqual([]);
  });

  it("batches by count, acks every record after its batch is written and reports counts", async () => {
    const { sink, batches } = recordingSink();
    const ack = counted();
    const results = await lastValueFrom(
      from(input(25, ack)).pipe(
        writeTo(sink, { maxBatch: 10, topic: "out" }),
        toArray(),
      ),
    );
    expect(results).toEqual([
      { ok: true, count: 10 },
      { ok: true, count: 10 },
      { ok: true, count: 5 },
    ]);
    expect(batches.flat().map((r) => r.value)).toEqual(
      Array.from({ length: 25 }, (_, i) => i),
    );
    expect(batches.flat().every((r) => r.topic === "out")).toBe(true);
    expect(ack.acks).toBe(25);
  });

  it("nacks every record of a failed batch with a retryable error and keeps going", async () => {
    const { sink } = recordingSink({
      fail: (b) => b.some((r) => r.value === 3),
    });
    const ack = counted();
    const results = await lastValueFrom(
      from(input(6, ack)).pipe(writeTo(sink, { maxBatch: 2 }), toArray()),
    );
    expect(results.map((r) => r.ok)).toEqual([true, false, true]);
    expect(ack.acks).toBe(4);
    expect(ack.nacks).toHaveLength(2);
    expect(ack.nacks[0]).toMatchObject({
      code: "UNAVAILABLE",
      retryable: true,
    });
  });

  it("nacks when the topic function throws instead of erroring the stream", async () => {
    const { sink } = recordingSink();
    const ack = counted();
    const results = await lastValueFrom(
      from(input(2, ack)).pipe(
        writeTo(sink, {
          maxBatch: 5,
          topic: () => {
            throw new Error("no route");
          },
        }),
        toArray(),
      ),
    );
    expect(results).toMatchObject([{ ok: false, count: 2 }]);
    expect(ack.nacks).toHaveLength(2);
  });

  it("never runs more writes at once than sink.maxInFlight", async () => {
    const { sink, stats } = recordingSink({ maxInFlight: 2, delayMs: 5 });
    await lastValueFrom(
      from(input(40)).pipe(writeTo(sink, { maxBatch: 3 }), toArray()),
    );
    expect(stats.maxActive).toBe(2);
  });

  it("rejects bad options naming the field", () => {
    const { sink } = recordingSink();
    expect(() => writeTo(sink, { maxBatch: 0 })).toThrow(/writeTo\.maxBatch/);
    expect(() => writeTo(sink, { maxBatch: 1, maxWaitMs: 0 })).toThrow(
      /writeTo\.maxWaitMs/,
    );
  });
});
