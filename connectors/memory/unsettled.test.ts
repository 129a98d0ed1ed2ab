import {
  VirtualTimeScheduler,
  filter,
  lastValueFrom,
  tap,
  toArray,
} from "rxjs";
import { afterEach, describe, expect, it, vi } from "vitest";
import { filterAck } from "../../operators/filter-ack.js";
import type { Record } from "../../operators/record.js";
import { UNSETTLED_CODE, UNSETTLED_WARNING } from "../internal/unsettled.js";
import { MemoryLog } from "./log.js";
import { memorySource } from "./source.js";

/** Two partitions: p0 holds 0, 2, 4, …; p1 holds 1, 3, 5, … (offsets 0.. in each). */
function log(): MemoryLog {
  const l = new MemoryLog();
  l.createTopic("clicks", { partitions: 2 });
  for (let i = 0; i < 10; i++)
    l.append("clicks", { key: `k${i}`, value: i, partition: i % 2 });
  return l;
}

const ackAll = tap((r: Record<number>) => r.ack.ack());

function warnings(): { message: string; type: string; code: string }[] {
  const seen: { message: string; type: string; code: string }[] = [];
  vi.spyOn(process, "emitWarning").mockImplementation(((
    message: string | Error,
    options?: { type?: string; code?: string },
  ) => {
    seen.push({
      message: String(message),
      type: options?.type ?? "",
      code: options?.code ?? "",
    });
  }) as typeof process.emitWarning);
  return seen;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("memorySource close with records nothing will settle", () => {
  it("says so loudly when a plain RxJS filter dropped records: count, partitions, oldest offset and the likely cause", async () => {
    const seen = warnings();
    const l = log();
    const source = memorySource<number>(l, {
      group: "g",
      topics: ["clicks"],
      stopAtEnd: true,
      drainTimeoutMs: 20,
    });
    // Drops values ≥ 7 and the odd values below 5 without acking them (the mistake).
    await lastValueFrom(
      source.records().pipe(
        filter((r) => r.value < 7 && (r.value % 2 === 0 || r.value >= 5)),
        ackAll,
        toArray(),
      ),
    );
    await source.close();
    expect(seen).toHaveLength(1);
    const w = seen[0]!;
    expect(w.type).toBe(UNSETTLED_WARNING);
    expect(w.code).toBe(UNSETTLED_CODE);
    // p0: 8 (offset 4) dropped; p1: 1 and 3 (offsets 0, 1), 7 and 9 (offsets 3, 4) dropped.
    expect(w.message).toContain("close with 5 records never settled");
    expect(w.message).toContain("clicks/0: 1 from offset 4");
    expect(w.message).toContain("clicks/1: 4 from offset 0");
    expect(w.message).toContain("use filterAck");
    // The commit stays below the oldest unsettled record of each partition.
    expect(l.committed("g", "clicks", 0)).toBe(4);
    expect(l.committed("g", "clicks", 1)).toBeUndefined();
  });

  it("is silent and commits to the end when filterAck drops them", async () => {
    const seen = warnings();
    const l = log();
    const source = memorySource<number>(l, {
      group: "g",
      topics: ["clicks"],
      stopAtEnd: true,
      drainTimeoutMs: 20,
    });
    const kept = await lastValueFrom(
      source.records().pipe(
        filterAck((r) => r.value % 3 === 0),
        ackAll,
        toArray(),
      ),
    );
    await source.close();
    expect(kept.map((r) => r.value).sort()).toEqual([0, 3, 6, 9]);
    expect(seen).toEqual([]);
    expect(l.committed("g", "clicks", 0)).toBe(5);
    expect(l.committed("g", "clicks", 1)).toBe(5);
  });

  it("names a slow sink, not a dropped record, when records were still settling as the drain timed out", async () => {
    const seen = warnings();
    const l = log();
    const scheduler = new VirtualTimeScheduler();
    const source = memorySource<number>(l, {
      group: "g",
      topics: ["clicks"],
      drainTimeoutMs: 5_000,
      commitIntervalMs: 0,
      scheduler,
    });
    const held: Record<number>[] = [];
    const sub = source.records().subscribe((r) => held.push(r));
    await source.connect();
    await new Promise((resolve) => setImmediate(resolve));
    scheduler.flush();
    expect(held).toHaveLength(10);
    sub.unsubscribe();
    const closing = source.close();
    await new Promise((resolve) => setImmediate(resolve)); // the drain is waiting
    held[0]!.ack.ack(); // one settles during the drain, the rest never do
    scheduler.flush(); // the drain times out (virtual time)
    await closing;
    expect(seen).toHaveLength(1);
    expect(seen[0]!.message).toContain("9 records never settled");
    expect(seen[0]!.message).toContain("still being settled");
    expect(seen[0]!.message).not.toContain("filterAck");
  });
});
