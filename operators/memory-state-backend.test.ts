import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { memoryStateBackend } from "./memory-state-backend.js";

describe("memoryStateBackend", () => {
  it("reads back what was written, per partition and key", () => {
    const b = memoryStateBackend();
    b.setValue("t/0", "count", "a", 1, undefined);
    b.setValue("t/1", "count", "a", 2, undefined);
    expect(b.getValue("t/0", "count", "a", 0)).toBe(1);
    expect(b.getValue("t/1", "count", "a", 0)).toBe(2);
    expect(b.getValue("t/0", "count", "b", 0)).toBeUndefined();
  });

  it("never returns an expired value or map entry", () => {
    const b = memoryStateBackend();
    b.setValue("", "v", "k", "x", 100);
    b.setMapEntry("", "m", "k", "e", 1, 50);
    b.setMapEntry("", "m", "k", "f", 2, undefined);
    expect(b.getValue("", "v", "k", 99)).toBe("x");
    expect(b.getValue("", "v", "k", 100)).toBeUndefined();
    expect(b.mapEntries("", "m", "k", 60)).toEqual([["f", 2]]);
  });

  it("removes expired entries on expire, so TTL bounds memory", () => {
    const b = memoryStateBackend();
    b.setValue("t/0", "v", "a", 1, 10);
    b.setValue("t/0", "v", "b", 2, undefined);
    b.setMapEntry("t/0", "m", "a", "x", 1, 10);
    expect(b.expire(10)).toBe(2);
    expect(b.snapshot().partitions["t/0"]).toEqual({
      values: { v: [["b", 2, null]] },
      maps: {},
      timers: { event: [], processing: [] },
    });
  });

  it("polls timers in time order across partitions, once each", () => {
    const b = memoryStateBackend();
    b.registerTimer("t/0", "event", "a", 30);
    b.registerTimer("t/1", "event", "b", 10);
    b.registerTimer("t/1", "event", "b", 10);
    b.registerTimer("t/0", "event", "c", 20);
    b.deleteTimer("t/0", "event", "c", 20);
    expect(b.nextTimer("event")).toBe(10);
    expect(b.pollTimer("event", 25)).toEqual({
      partition: "t/1",
      key: "b",
      time: 10,
    });
    expect(b.pollTimer("event", 25)).toBeUndefined();
    expect(b.pollTimer("event", 30)).toEqual({
      partition: "t/0",
      key: "a",
      time: 30,
    });
    expect(b.nextTimer("event")).toBeUndefined();
  });

  it("snapshots one piece per partition as plain JSON and restores it", () => {
    const b = memoryStateBackend();
    b.setValue("t/0", "v", "k", { n: 1 }, 500);
    b.setMapEntry("t/0", "m", "k", "x", [1, 2], undefined);
    b.registerTimer("t/0", "processing", "k", 7);
    b.setValue("t/1", "v", "k", 2, undefined);
    const piece = b.snapshot(["t/0"]);
    expect(Object.keys(piece.partitions)).toEqual(["t/0"]);
    const json = JSON.parse(JSON.stringify(piece)) as typeof piece;
    const r = memoryStateBackend();
    r.restore(json);
    expect(r.getValue("t/0", "v", "k", 0)).toEqual({ n: 1 });
    expect(r.getValue("t/0", "v", "k", 500)).toBeUndefined();
    expect(r.mapEntries("t/0", "m", "k", 0)).toEqual([["x", [1, 2]]]);
    expect(r.pollTimer("processing", 10)).toEqual({
      partition: "t/0",
      key: "k",
      time: 7,
    });
    expect(r.getValue("t/1", "v", "k", 0)).toBeUndefined();
    expect(b.snapshot()).toEqual(JSON.parse(JSON.stringify(b.snapshot())));
  });

  it("copies values so a snapshot does not change with later writes", () => {
    const b = memoryStateBackend();
    const v = { n: 1 };
    b.setValue("", "v", "k", v, undefined);
    const s = b.snapshot();
    v.n = 2;
    expect(s.partitions[""]!.values["v"]).toEqual([["k", { n: 1 }, null]]);
  });

  it("drops a revoked partition", () => {
    const b = memoryStateBackend();
    b.setValue("t/0", "v", "k", 1, undefined);
    b.dropPartition("t/0");
    expect(b.partitions()).toEqual([]);
  });

  it("restores to the same state it snapshotted, whatever was written", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.constantFrom("t/0", "t/1", ""),
            fc.constantFrom("a", "b"),
            fc.constantFrom("k1", "k2"),
            fc.integer(),
          ),
        ),
        (writes) => {
          const b = memoryStateBackend();
          for (const [p, name, key, v] of writes) {
            b.setValue(p, name, key, v, undefined);
            b.setMapEntry(p, name, key, String(v % 3), v, undefined);
          }
          const r = memoryStateBackend();
          r.restore(
            JSON.parse(JSON.stringify(b.snapshot())) as ReturnType<
              typeof b.snapshot
            >,
          );
          expect(r.snapshot()).toEqual(b.snapshot());
        },
      ),
    );
  });
});
