import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CommitTracker } from "./commit-tracker.js";
import { SluiceError } from "./sluice-error.js";

const boom = new SluiceError("PROCESS", "boom", { retryable: true });

describe("CommitTracker", () => {
  it("has nothing to commit before any record completes", () => {
    const t = new CommitTracker("t", 0);
    t.track(0);
    expect(t.committable).toBeUndefined();
    expect(t.inFlight).toBe(1);
  });

  it("commits the offset after the last contiguous done record", () => {
    const t = new CommitTracker("t", 0);
    const a = t.track(5);
    const b = t.track(6);
    const c = t.track(7);
    b.ack();
    expect(t.committable).toBeUndefined();
    a.ack();
    expect(t.committable).toBe(7);
    c.ack();
    expect(t.committable).toBe(8);
    expect(t.inFlight).toBe(0);
  });

  it("steps over gaps in offsets, as after compaction", () => {
    const t = new CommitTracker("t", 0);
    t.track(1).ack();
    t.track(10).ack();
    expect(t.committable).toBe(11);
  });

  it("waits for every descendant of a record that was fanned out", () => {
    const t = new CommitTracker("t", 0);
    const h = t.track(0);
    h.retain(2);
    h.ack();
    h.ack();
    expect(t.committable).toBeUndefined();
    h.ack();
    expect(t.committable).toBe(1);
    expect(h.settled).toBe(true);
  });

  it("never passes a nacked offset and reports it to listeners", () => {
    const t = new CommitTracker("t", 3);
    const seen: number[] = [];
    t.onNack((offset) => seen.push(offset));
    const a = t.track(0);
    const b = t.track(1);
    b.ack();
    a.nack(boom);
    expect(seen).toEqual([0]);
    expect(t.committable).toBeUndefined();
    expect(t.failedOffsets).toEqual([0]);
    const again = t.retry(0);
    again.ack();
    expect(t.committable).toBe(2);
  });

  it("ignores settlements of a handle after it was retried", () => {
    const t = new CommitTracker("t", 0);
    const first = t.track(0);
    first.nack(boom);
    const second = t.retry(0);
    first.ack();
    expect(t.committable).toBeUndefined();
    second.ack();
    expect(t.committable).toBe(1);
  });

  it("rejects offsets that do not ascend", () => {
    const t = new CommitTracker("orders", 2);
    t.track(4);
    expect(() => t.track(4)).toThrow(/orders\[2\]: offset 4 tracked after 4/);
  });

  it("keeps done offsets above the commit point in its snapshot and skips them after a restore", () => {
    const t = new CommitTracker("t", 0);
    const hs = [0, 1, 2, 3, 4, 5].map((o) => t.track(o));
    hs[0]!.ack();
    hs[2]!.ack();
    hs[3]!.ack();
    hs[5]!.ack();
    const snap = t.snapshot();
    expect(snap).toEqual({
      topic: "t",
      partition: 0,
      committed: 1,
      doneAbove: [
        [2, 3],
        [5, 5],
      ],
    });

    const restored = new CommitTracker("t", 0);
    restored.restore(snap);
    const redelivered = [1, 2, 3, 4, 5].filter(
      (o) => !restored.shouldSkip(o) && (restored.track(o), true),
    );
    expect(redelivered).toEqual([1, 4]);
  });

  it("grows past its initial capacity without losing offsets", () => {
    const t = new CommitTracker("t", 0);
    const handles = Array.from({ length: 5000 }, (_, i) => t.track(i));
    for (let i = handles.length - 1; i >= 1; i--) handles[i]!.ack();
    expect(t.committable).toBeUndefined();
    handles[0]!.ack();
    expect(t.committable).toBe(5000);
  });

  it("never commits past an unacked offset and reaches the end once all are acked, in any completion order", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 300 }).chain((n) =>
          fc.tuple(
            fc.constant(n),
            fc.shuffledSubarray([...Array(n).keys()], {
              minLength: n,
              maxLength: n,
            }),
            fc.array(fc.integer({ min: 1, max: 5 }), {
              minLength: n,
              maxLength: n,
            }),
          ),
        ),
        ([n, order, gaps]) => {
          const t = new CommitTracker("t", 0);
          const offsets: number[] = [];
          let o = 0;
          for (let i = 0; i < n; i++) {
            o += gaps[i]!;
            offsets.push(o);
          }
          const handles = offsets.map((off) => t.track(off));
          const done = new Set<number>();
          for (const i of order) {
            handles[i]!.ack();
            done.add(i);
            const c = t.committable;
            if (c !== undefined) {
              // every offset below the commit point is done
              offsets.forEach((off, j) => {
                if (off < c) expect(done.has(j)).toBe(true);
              });
            }
          }
          expect(t.committable).toBe(offsets[n - 1]! + 1);
        },
      ),
    );
  });
});

describe("CommitTracker batches", () => {
  it("commits a batch only when every record of it is done", () => {
    const t = new CommitTracker("t", 0);
    const batch = t.trackBatch(0, 2, 3);
    batch.ack();
    batch.ack();
    expect(t.committable).toBeUndefined();
    batch.ack();
    expect(t.committable).toBe(3);
  });

  it("keeps a done batch above the commit point as one range in the snapshot", () => {
    const t = new CommitTracker("t", 0);
    t.trackBatch(0, 9, 10);
    const second = t.trackBatch(10, 19, 10);
    for (let i = 0; i < 10; i++) second.ack();
    expect(t.snapshot().doneAbove).toEqual([[10, 19]]);
  });

  it("rejects an empty batch", () => {
    const t = new CommitTracker("t", 0);
    expect(() => t.trackBatch(5, 4, 1)).toThrow(/inverted batch/);
  });
});

describe("CommitTracker batch redelivery", () => {
  it("counts the whole batch again when a failed batch is retried", () => {
    const t = new CommitTracker("t", 0);
    const batch = t.trackBatch(0, 1, 2);
    batch.ack();
    batch.nack(boom);
    const again = t.retry(1);
    again.ack();
    expect(t.committable).toBeUndefined();
    again.ack();
    expect(t.committable).toBe(2);
  });
});
