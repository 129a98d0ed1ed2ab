import { readFileSync } from "node:fs";
import fc from "fast-check";
import { afterEach, describe, expect, it, vi } from "vitest";
import { MemoryLog } from "../../connectors/memory/index.js";
import type { LogRecord } from "../../connectors/memory/log.js";
import { partitionForKey } from "../../connectors/memory/partitioner.js";
import { clicksPerMinute } from "./readme-example.js";

type Click = readonly [user: string, second: number];

const README_CLICKS: readonly Click[] = [
  ["ada", 1],
  ["bo", 2],
  ["ada", 30],
  ["ada", 61],
];

/** The case: one more click, by `bo` at 130 s, in a later minute than all of ada's. */
const WITH_BO_AT_130: readonly Click[] = [...README_CLICKS, ["bo", 130]];

/** What the job must write, counted by brute force: one line per user and minute. */
function reference(clicks: readonly Click[]): string[] {
  const counts = new Map<string, number>();
  for (const [user, second] of clicks) {
    const line = `${user} ${Math.floor(second / 60) * 60}s`;
    counts.set(line, (counts.get(line) ?? 0) + 1);
  }
  return [...counts].map(([line, n]) => `${line}: ${n}`).sort();
}

/**
 * The order in which the source gets the `clicks` records: a sequence of partitions, one
 * entry per record, each partition's records in offset order. `(partitions) => order`.
 */
type ReadOrder = (byPartition: readonly LogRecord[][]) => number[];

/** Partition by partition, in the given order of partitions. */
const partitionsInOrder =
  (first: (byPartition: readonly LogRecord[][]) => number[]): ReadOrder =>
  (byPartition) =>
    first(byPartition).flatMap((p) => byPartition[p]!.map(() => p));

/** A merge of the partitions' backlogs drawn from `seed`. */
const randomMerge =
  (seed: number): ReadOrder =>
  (byPartition) => {
    let state = seed >>> 0 || 1;
    const next = (): number => {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      return (state >>> 0) / 2 ** 32;
    };
    const left = byPartition.map((rs) => rs.length);
    const order: number[] = [];
    for (let total = left.reduce((a, b) => a + b, 0); total > 0; total--) {
      let pick = Math.floor(next() * total);
      let p = 0;
      while (pick >= left[p]!) pick -= left[p++]!;
      left[p]! -= 1;
      order.push(p);
    }
    return order;
  };

/**
 * Makes the memory log hand the `clicks` backlog to the example's source in `order`: a read
 * of a partition returns its next records only while they are next in the order (fewer than
 * asked, or none, as a log may). Records already handed out are handed out again if read
 * again. The example itself runs unchanged.
 */
function readClicksIn(order: ReadOrder): void {
  const read = MemoryLog.prototype.read;
  let sequence: number[] | undefined;
  let cursor = 0;
  const released = new Map<number, number>();
  vi.spyOn(MemoryLog.prototype, "read").mockImplementation(function (
    this: MemoryLog,
    topic,
    partition,
    offset,
    max,
  ) {
    if (topic !== "clicks")
      return read.call(this, topic, partition, offset, max);
    if (sequence === undefined) {
      const byPartition: LogRecord[][] = [];
      for (let p = 0; p < this.partitionCount(topic); p++)
        byPartition.push(read.call(this, topic, p, 0, 1_000_000));
      sequence = order(byPartition);
    }
    let to = released.get(partition) ?? 0;
    if (offset >= to)
      while (sequence[cursor] === partition && to - offset < max) {
        cursor += 1;
        to += 1;
      }
    released.set(partition, to);
    return read.call(
      this,
      topic,
      partition,
      offset,
      Math.min(max, to - offset),
    );
  });
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("the README example", () => {
  it("is quoted in the README exactly as it is in this folder", () => {
    const readme = readFileSync(
      new URL("../../README.md", import.meta.url),
      "utf8",
    );
    const source = readFileSync(
      new URL("./readme-example.ts", import.meta.url),
      "utf8",
    );
    expect(readme).toContain(source.trim());
  });

  it("counts clicks per user per minute", async () => {
    expect((await clicksPerMinute()).sort()).toEqual([
      "ada 0s: 2",
      "ada 60s: 1",
      "bo 0s: 1",
    ]);
  });

  it.each([1, 2, 3, 16])(
    "gives the same counts on %i partitions, the issue's click of bo at 130 s too",
    async (partitions) => {
      expect((await clicksPerMinute(README_CLICKS, partitions)).sort()).toEqual(
        reference(README_CLICKS),
      );
      expect(
        (await clicksPerMinute(WITH_BO_AT_130, partitions)).sort(),
      ).toEqual(["ada 0s: 2", "ada 60s: 1", "bo 0s: 1", "bo 120s: 1"]);
    },
  );

  it("loses none of ada's windows when bo's partition, up to 130 s, is read before ada's", async () => {
    expect(partitionForKey("bo", 2)).not.toBe(partitionForKey("ada", 2));
    readClicksIn(
      partitionsInOrder((byPartition) =>
        byPartition
          .map((rs, p) => ({ p, bo: rs.some((r) => r.key === "bo") }))
          .sort((a, b) => Number(b.bo) - Number(a.bo))
          .map(({ p }) => p),
      ),
    );
    expect((await clicksPerMinute(WITH_BO_AT_130, 2)).sort()).toEqual([
      "ada 0s: 2",
      "ada 60s: 1",
      "bo 0s: 1",
      "bo 120s: 1",
    ]);
  });

  it("waits for a late-starting partition: one whose backlog, the oldest clicks, is read after the other's", async () => {
    // On two partitions `ada` and `cy` land apart: `cy`'s partition starts at 200 s and is
    // read first, then `ada`'s, which holds every click of the first three minutes.
    expect(partitionForKey("cy", 2)).not.toBe(partitionForKey("ada", 2));
    const clicks: readonly Click[] = [
      ["ada", 1],
      ["ada", 59],
      ["ada", 60],
      ["ada", 150],
      ["cy", 200],
      ["cy", 201],
      ["cy", 320],
    ];
    readClicksIn(
      partitionsInOrder((byPartition) =>
        byPartition
          .map((rs, p) => ({ p, ada: rs.some((r) => r.key === "ada") }))
          .sort((a, b) => Number(a.ada) - Number(b.ada))
          .map(({ p }) => p),
      ),
    );
    expect((await clicksPerMinute(clicks, 2)).sort()).toEqual([
      "ada 0s: 2",
      "ada 120s: 1",
      "ada 60s: 1",
      "cy 180s: 2",
      "cy 300s: 1",
    ]);
  });

  it("gives the brute-force counts for any clicks, 1 to 16 partitions, and any interleaving of their backlogs", async () => {
    await fc.assert(
      fc.asyncProperty(
        // In order per user up to the 5 s bound the example allows: late-free by design.
        fc
          .array(
            fc.tuple(
              fc.constantFrom("ada", "bo", "cy", "dee", "eve"),
              fc.integer({ min: 0, max: 400 }),
              fc.integer({ min: 0, max: 5 }),
            ),
            { maxLength: 30 },
          )
          .map((drawn) =>
            drawn
              .sort((a, b) => a[1] - b[1])
              .map(([user, second, jitter]): Click => [user, second + jitter]),
          ),
        fc.constantFrom(1, 2, 3, 16),
        fc.integer(),
        async (clicks, partitions, seed) => {
          readClicksIn(randomMerge(seed));
          try {
            expect((await clicksPerMinute(clicks, partitions)).sort()).toEqual(
              reference(clicks),
            );
          } finally {
            vi.restoreAllMocks();
          }
        },
      ),
      { numRuns: 50 },
    );
  });
});
