import { lastValueFrom, tap, toArray } from "rxjs";
import { describe, expect, it } from "vitest";
import { counter } from "../../operators/aggregate.js";
import { isLate, isRecord } from "../../operators/element.js";
import { ownerOf } from "../../operators/partition-owner.js";
import { tumblingWindow } from "../../operators/tumbling-window.js";
import { withWatermarks } from "../../operators/with-watermarks.js";
import { MemoryLog } from "./log.js";
import { memorySource } from "./source.js";

// The flaw DESIGN.md describes (“A quiet stream still closes its windows”): with the
// wall-clock advance, a job reading a backlog that pauses for longer than the idle timeout
// closes every old window early and the rest of the backlog is late. With `isCaughtUp`
// asking the source for its lag, a paused partition with unread records is not idle; the
// source is asked by default (its records' origins lead back to it).

const RECORDS = 200;
const IDLE_MS = 20;

async function readBacklogWithAPause(
  caughtUp: "option" | "source by default" | "silence only",
): Promise<{ counted: number; late: number; windows: number }> {
  const log = new MemoryLog();
  log.createTopic("events", { partitions: 1 });
  // A backlog of old events, in order: event times 0 … 19 900 ms, ten 2-second windows.
  for (let i = 0; i < RECORDS; i++)
    log.append("events", {
      key: `k${i % 7}`,
      value: i,
      timestamp: i * 100,
    });
  const source = memorySource<number>(log, {
    group: "g",
    topics: ["events"],
    fetchMaxRecords: 10,
  });
  let seen = 0;
  let paused = false;
  const out = lastValueFrom(
    source.records().pipe(
      tap(() => {
        seen += 1;
        // A stall in the middle of the backlog (a slow lookup, a full in-flight cap).
        if (seen === 60 && !paused) {
          paused = true;
          source.pause();
          setTimeout(() => source.resume(), IDLE_MS * 8);
        }
      }),
      withWatermarks<number>({
        maxOutOfOrdernessMs: 0,
        idleTimeoutMs: IDLE_MS,
        allIdle: "advance-with-wall-clock",
        ...(caughtUp === "option"
          ? { isCaughtUp: (tp) => source.isCaughtUp(tp) }
          : caughtUp === "silence only"
            ? { isCaughtUp: () => undefined }
            : {}),
      }),
      tumblingWindow({ sizeMs: 2_000, aggregate: counter<number>() }),
      tap((e) => {
        if (isLate(e)) e.record.ack.ack();
        else if (isRecord(e)) e.ack.ack();
      }),
      toArray(),
    ),
  );
  for (let i = 0; i < 500 && seen < RECORDS; i++)
    await new Promise((resolve) => setTimeout(resolve, 5));
  expect(seen).toBe(RECORDS);
  await source.close();
  const elements = await out;
  const results = elements.filter(isRecord);
  return {
    counted: results.reduce((n, w) => n + w.value.result, 0),
    late: elements.filter(isLate).length,
    windows: results.length,
  };
}

describe("withWatermarks over a memory source reading a backlog", () => {
  it("does not close windows early while the paused source still has unread records", async () => {
    const r = await readBacklogWithAPause("option");
    expect(r.late).toBe(0);
    expect(r.counted).toBe(RECORDS);
  });

  it("asks the records' own source when isCaughtUp is not given", async () => {
    const r = await readBacklogWithAPause("source by default");
    expect(r.late).toBe(0);
    expect(r.counted).toBe(RECORDS);
  });

  it("on silence alone (isCaughtUp answers undefined), the same pause closes windows early and the rest of the backlog is late", async () => {
    const r = await readBacklogWithAPause("silence only");
    expect(r.late).toBeGreaterThan(0);
    expect(r.counted + r.late).toBe(RECORDS);
  });

  it("says a partition is caught up only once every record of it was emitted", async () => {
    const log = new MemoryLog();
    log.createTopic("t", { partitions: 1 });
    log.append("t", { value: 1 });
    const source = memorySource<number>(log, { group: "g", topics: ["t"] });
    const tp = { topic: "t", partition: 0 };
    expect(source.isCaughtUp(tp)).toBeUndefined(); // not assigned yet
    const got: number[] = [];
    const sub = source.records().subscribe((r) => {
      got.push(r.value);
      r.ack.ack();
    });
    for (let i = 0; i < 200 && got.length < 1; i++)
      await new Promise((resolve) => setTimeout(resolve, 2));
    expect(source.isCaughtUp(tp)).toBe(true);
    source.pause();
    log.append("t", { value: 2 });
    expect(source.isCaughtUp(tp)).toBe(false);
    source.resume();
    for (let i = 0; i < 200 && got.length < 2; i++)
      await new Promise((resolve) => setTimeout(resolve, 2));
    expect(source.isCaughtUp(tp)).toBe(true);
    sub.unsubscribe();
    await source.close();
  });

  it("links every record's origin back to the source, for withWatermarks", async () => {
    const log = new MemoryLog();
    log.createTopic("t", { partitions: 2 });
    log.append("t", { value: 1, partition: 1 });
    const source = memorySource<number>(log, {
      group: "g",
      topics: ["t"],
      stopAtEnd: true,
    });
    const records = await lastValueFrom(source.records().pipe(toArray()));
    expect(records.map((r) => ownerOf(r.origin))).toEqual([source]);
    expect(records[0]!.origin).toEqual({ topic: "t", partition: 1, offset: 0 });
    records[0]!.ack.ack();
    await source.close();
  });
});
