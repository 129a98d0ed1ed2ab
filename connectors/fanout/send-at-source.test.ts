import { describe, expect, it } from "vitest";
import type { Record } from "../../operators/record.js";
import { SluiceError } from "../../operators/sluice-error.js";
import { ManualClock } from "../schedule/testing/manual-clock.js";
import { memorySendAtQueue } from "./send-at-queue.js";
import { sendAtSource } from "./send-at-source.js";

const T0 = Date.parse("2026-11-23T05:00:00Z");

describe("sendAtSource", () => {
  it("emits each item when it becomes due, and an ack completes it", async () => {
    const clock = new ManualClock(T0);
    const queue = memorySendAtQueue<string>();
    await queue.enqueue([
      { id: "b", dueAt: T0 + 2 * 3_600_000, payload: "second" },
      { id: "a", dueAt: T0 + 3_600_000, payload: "first" },
    ]);
    const source = sendAtSource(queue, { scheduler: clock, pollMs: 60_000 });
    const seen: Record<string>[] = [];
    const sub = source.records().subscribe((r) => {
      seen.push(r);
      r.ack.ack();
    });
    await clock.advanceTo(T0 + 3_600_000 - 1);
    expect(seen).toEqual([]);
    await clock.advanceTo(T0 + 3_600_000);
    expect(seen.map((r) => r.value)).toEqual(["first"]);
    await clock.advanceTo(T0 + 3 * 3_600_000);
    expect(seen.map((r) => [r.value, r.timestamp])).toEqual([
      ["first", T0 + 3_600_000],
      ["second", T0 + 2 * 3_600_000],
    ]);
    expect(await queue.pending()).toBe(0);
    sub.unsubscribe();
  });

  it("an item turned into no records (retain(-1)) is completed, one fanned out waits for every part", async () => {
    const clock = new ManualClock(T0);
    const queue = memorySendAtQueue<string>();
    await queue.enqueue([
      { id: "none", dueAt: T0, payload: "filtered out" },
      { id: "two", dueAt: T0, payload: "split in two" },
    ]);
    const source = sendAtSource(queue, { scheduler: clock, pollMs: 1_000 });
    const two: Record<string>[] = [];
    const sub = source.records().subscribe((r) => {
      if (r.key === "none") r.ack.retain(-1);
      else {
        r.ack.retain(1);
        r.ack.ack();
        two.push(r);
      }
    });
    await clock.advanceTo(T0 + 1_000);
    expect(await queue.pending()).toBe(1);
    two[0]?.ack.ack();
    await clock.advanceTo(T0 + 2_000);
    expect(await queue.pending()).toBe(0);
    sub.unsubscribe();
  });

  it("a nack releases the item, due again after retryDelayMs", async () => {
    const clock = new ManualClock(T0);
    const queue = memorySendAtQueue<string>();
    await queue.enqueue([{ id: "x", dueAt: T0, payload: "x" }]);
    const source = sendAtSource(queue, {
      scheduler: clock,
      pollMs: 1_000,
      retryDelayMs: 30_000,
    });
    const attempts: string[] = [];
    const sub = source.records().subscribe((r) => {
      attempts.push(r.headers["sluice-attempt"] ?? "");
      if (attempts.length === 1)
        r.ack.nack(
          new SluiceError("UNAVAILABLE", "smtp down", { retryable: true }),
        );
      else r.ack.ack();
    });
    await clock.advanceTo(T0 + 29_000);
    expect(attempts).toEqual(["1"]);
    await clock.advanceTo(T0 + 31_000);
    expect(attempts).toEqual(["1", "2"]);
    expect(await queue.pending()).toBe(0);
    sub.unsubscribe();
  });

  it("with stopWhenEmpty, completes once every item is done", async () => {
    const clock = new ManualClock(T0);
    const queue = memorySendAtQueue<number>();
    await queue.enqueue(
      [1, 2, 3].map((n) => ({ id: `i${n}`, dueAt: T0 + n, payload: n })),
    );
    const source = sendAtSource(queue, {
      scheduler: clock,
      stopWhenEmpty: true,
      pollMs: 1,
    });
    let completed = false;
    const got: number[] = [];
    const sub = source.records().subscribe({
      next: (r) => {
        got.push(r.value);
        r.ack.ack();
      },
      complete: () => {
        completed = true;
      },
    });
    await clock.advanceTo(T0 + 10);
    expect(got).toEqual([1, 2, 3]);
    expect(completed).toBe(true);
    expect(source.claimed).toBe(3);
    sub.unsubscribe();
  });
});
