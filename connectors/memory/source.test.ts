import {
  VirtualTimeScheduler,
  firstValueFrom,
  lastValueFrom,
  map,
  toArray,
} from "rxjs";
import { describe, expect, it } from "vitest";
import { derive } from "../../operators/record.js";
import type { Record } from "../../operators/record.js";
import { SluiceError } from "../../operators/sluice-error.js";
import { waitFor } from "../testing/helpers.js";
import type { AssignmentEvent } from "../types.js";
import { writeTo } from "../write-to.js";
import { MemoryLog } from "./log.js";
import { memorySink } from "./sink.js";
import { memorySource } from "./source.js";

function logWith(topic: string, partitions: number, values: number): MemoryLog {
  const log = new MemoryLog();
  log.createTopic(topic, { partitions });
  for (let i = 0; i < values; i++)
    log.append(topic, { key: `k${i % 5}`, value: i });
  return log;
}

describe("memorySource", () => {
  it("with stopAtEnd, completes once the records present at assignment are emitted", async () => {
    const log = logWith("t", 3, 20);
    const source = memorySource<number>(log, {
      group: "g",
      topics: ["t"],
      stopAtEnd: true,
    });
    const values = await lastValueFrom(
      source.records().pipe(
        map((r) => {
          r.ack.ack();
          return r.value;
        }),
        toArray(),
      ),
    );
    expect(values.sort((a, b) => a - b)).toEqual(
      Array.from({ length: 20 }, (_, i) => i),
    );
    await source.close();
    expect(
      [0, 1, 2].reduce((sum, p) => sum + (log.committed("g", "t", p) ?? 0), 0),
    ).toBe(20);
  });

  it("with stopAtEnd on an empty topic, completes at once", async () => {
    const log = logWith("t", 2, 0);
    const source = memorySource<number>(log, {
      group: "g",
      topics: ["t"],
      stopAtEnd: true,
    });
    expect(await lastValueFrom(source.records().pipe(toArray()))).toEqual([]);
    await source.close();
  });

  it("commits only up to the first unacked offset", async () => {
    const log = logWith("t", 1, 5);
    const source = memorySource<number>(log, {
      group: "g",
      topics: ["t"],
      stopAtEnd: true,
      commitIntervalMs: 0,
      drainTimeoutMs: 0,
    });
    const rs = await lastValueFrom(source.records().pipe(toArray()));
    for (const r of rs) if (r.value !== 2) r.ack.ack();
    await source.commit();
    expect(log.committed("g", "t", 0)).toBe(2);
    expect(source.snapshot()).toEqual([
      { topic: "t", partition: 0, committed: 2, doneAbove: [[3, 4]] },
    ]);
    await source.close();
  });

  it("redelivers a nacked record after the backoff, in scheduler time", async () => {
    const log = logWith("t", 1, 2);
    const scheduler = new VirtualTimeScheduler();
    const source = memorySource<number>(log, {
      group: "g",
      topics: ["t"],
      scheduler,
      nackBackoffMs: 1000,
      commitIntervalMs: 0,
    });
    const seen: number[] = [];
    let nacked = false;
    const sub = source.records().subscribe((r) => {
      seen.push(r.value);
      if (r.value === 0 && !nacked) {
        nacked = true;
        r.ack.nack(
          new SluiceError("UNAVAILABLE", "try again", { retryable: true }),
        );
      } else r.ack.ack();
    });
    await source.connect();
    await new Promise((resolve) => setImmediate(resolve));
    scheduler.flush();
    expect(seen).toEqual([0, 1, 0]);
    expect(scheduler.now()).toBe(1000);
    await source.commit();
    expect(log.committed("g", "t", 0)).toBe(2);
    sub.unsubscribe();
    const closing = source.close();
    scheduler.flush();
    await closing;
  });

  it("commits periodically on commitIntervalMs", async () => {
    const log = logWith("t", 1, 3);
    const source = memorySource<number>(log, {
      group: "g",
      topics: ["t"],
      commitIntervalMs: 10,
    });
    const sub = source.records().subscribe((r) => r.ack.ack());
    await waitFor(
      () => log.committed("g", "t", 0) === 3,
      2000,
      "the periodic commit",
    );
    sub.unsubscribe();
    await source.close();
  });

  it("errors the stream of a crashed member and redelivers its uncommitted records to the next", async () => {
    const log = logWith("t", 2, 10);
    const a = memorySource<number>(log, {
      group: "g",
      topics: ["t"],
      commitIntervalMs: 0,
    });
    let error: unknown;
    const held: Record<number>[] = [];
    const sub = a.records().subscribe({
      next: (r) => held.push(r),
      error: (e: unknown) => (error = e),
    });
    await waitFor(() => held.length === 10, 2000, "ten records");
    for (const r of held.filter((r) => r.origin!.offset < 2)) r.ack.ack();
    await a.commit();
    await log.crash(a.member!);
    expect(error).toBeInstanceOf(SluiceError);
    expect((error as SluiceError).code).toBe("CLOSED");
    const b = memorySource<number>(log, {
      group: "g",
      topics: ["t"],
      stopAtEnd: true,
    });
    const again = await lastValueFrom(b.records().pipe(toArray()));
    for (const r of again) r.ack.ack();
    expect(again.map((r) => r.value).sort((x, y) => x - y)).toEqual(
      held
        .filter((r) => r.origin!.offset >= 2)
        .map((r) => r.value)
        .sort((x, y) => x - y),
    );
    sub.unsubscribe();
    await a.close();
    await b.close();
  });

  it("announces assignments, replaying the current one to late subscribers", async () => {
    const log = logWith("t", 2, 0);
    const a = memorySource<number>(log, { group: "g", topics: ["t"] });
    await a.connect();
    const first = await firstValueFrom(a.assignments());
    expect(first).toEqual({
      type: "assigned",
      partitions: [
        { topic: "t", partition: 0 },
        { topic: "t", partition: 1 },
      ],
    });
    const events: AssignmentEvent[] = [];
    const sub = a.assignments().subscribe((e) => events.push(e));
    const b = memorySource<number>(log, { group: "g", topics: ["t"] });
    await b.connect();
    expect(events.at(-1)).toEqual({
      type: "revoked",
      partitions: [{ topic: "t", partition: 1 }],
    });
    sub.unsubscribe();
    await a.close();
    await b.close();
  });

  it("refuses a second concurrent subscriber", async () => {
    const log = logWith("t", 1, 0);
    const source = memorySource<number>(log, { group: "g", topics: ["t"] });
    const sub = source.records().subscribe();
    await expect(firstValueFrom(source.records())).rejects.toMatchObject({
      code: "CONFLICT",
    });
    sub.unsubscribe();
    await source.close();
  });

  it("rejects bad options at start-up naming the field", () => {
    const log = logWith("t", 1, 0);
    expect(() =>
      memorySource(log, {
        group: "g",
        topics: ["t"],
        maxInFlight: 10,
        lowWatermark: 10,
      }),
    ).toThrow(/memory\.source\.lowWatermark/);
    expect(() =>
      memorySource(log, { group: "g", topics: ["t"], maxInFlight: 0 }),
    ).toThrow(/memory\.source\.maxInFlight/);
    expect(() => memorySource(log, { group: "", topics: ["t"] })).toThrow(
      /memory\.source\.group/,
    );
  });

  it("fails to connect to a topic that does not exist", async () => {
    const source = memorySource(new MemoryLog(), {
      group: "g",
      topics: ["missing"],
    });
    await expect(source.connect()).rejects.toMatchObject({ code: "NOT_FOUND" });
    await source.close();
  });

  it("runs a job from one topic to another with writeTo (README example)", async () => {
    const log = new MemoryLog();
    log.createTopic("orders", { partitions: 3 });
    log.createTopic("totals", { partitions: 3 });
    for (let i = 1; i <= 9; i++)
      log.append("orders", { key: `user-${i % 3}`, value: { cents: i * 100 } });

    const source = memorySource<{ cents: number }>(log, {
      group: "billing",
      topics: ["orders"],
      stopAtEnd: true,
    });
    const sink = memorySink<string>(log, { topic: "totals" });
    await lastValueFrom(
      source.records().pipe(
        map((r) => derive(r, `${r.value.cents / 100} EUR`)),
        writeTo(sink, { maxBatch: 100 }),
      ),
    );
    await source.close();

    const written = [0, 1, 2]
      .flatMap((p) => log.read("totals", p, 0, 100))
      .map((r) => r.value);
    expect(written.sort()).toEqual([
      "1 EUR",
      "2 EUR",
      "3 EUR",
      "4 EUR",
      "5 EUR",
      "6 EUR",
      "7 EUR",
      "8 EUR",
      "9 EUR",
    ]);
    expect(
      [0, 1, 2]
        .map((p) => log.committed("billing", "orders", p) ?? 0)
        .reduce((a, b) => a + b),
    ).toBe(9);
  });
});
