import { describe, expect, it } from "vitest";
import { MemoryLog, memorySink } from "../../../connectors/memory/index.js";
import type { OutgoingRecord, Sink } from "../../../connectors/types.js";
import { createCodec } from "../../../avro/index.js";
import { comparePositions } from "./change-feed.js";
import {
  memoryChangeFeed,
  type MemoryChangeFeed,
} from "./memory-change-feed.js";
import { memoryPositionStore } from "./position-store.js";
import { cdcRelay, type CdcRelay, type ReviewEventValue } from "./relay.js";

const TABLE = { keyspace: "reviews_ks", table: "reviews" } as const;

function write(
  feed: MemoryChangeFeed,
  id: string,
  writetimeMicros?: number,
): void {
  feed.capture({
    ...TABLE,
    key: { id },
    op: "upsert",
    ...(writetimeMicros !== undefined ? { writetimeMicros } : {}),
  });
}

function collectingSink(): Sink<ReviewEventValue> & {
  readonly written: OutgoingRecord<ReviewEventValue>[];
  failNext: boolean;
} {
  const written: OutgoingRecord<ReviewEventValue>[] = [];
  return {
    name: "collect",
    maxInFlight: 1,
    written,
    failNext: false,
    connect: () => Promise.resolve(),
    write(batch) {
      if (this.failNext) {
        this.failNext = false;
        return Promise.reject(new Error("broker down"));
      }
      written.push(...batch);
      return Promise.resolve();
    },
    flush: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
}

async function until(what: string, cond: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

const ids = (n: number, prefix = "r"): string[] =>
  Array.from({ length: n }, (_, i) => `${prefix}${String(i)}`);

describe("cdcRelay on the in-memory CDC log", () => {
  it("publishes one ReviewEvent per write carrying the review id as key and value", async () => {
    const feed = memoryChangeFeed({ entriesPerSegment: 4 });
    const sink = collectingSink();
    const relay = await cdcRelay({
      feed,
      sink,
      positions: memoryPositionStore(),
    });
    for (const id of ids(10)) write(feed, id);
    await until("10 events", () => sink.written.length === 10);
    await relay.close();
    expect(sink.written.map((r) => r.key)).toEqual(ids(10));
    expect(sink.written.map((r) => r.value.reviewId)).toEqual(ids(10));
    expect(sink.written[0]?.headers?.["cdc-op"]).toBe("upsert");
  });

  it("drops replica copies of a write: three replicas, one event each", async () => {
    const feed = memoryChangeFeed({ entriesPerSegment: 5, replicas: 3 });
    const sink = collectingSink();
    const relay = await cdcRelay({
      feed,
      sink,
      positions: memoryPositionStore(),
      maxBatch: 2,
    });
    for (const id of ids(7)) write(feed, id);
    await until("all items read", () => relay.stats.duplicates === 14);
    await relay.close();
    expect(sink.written.map((r) => r.key)).toEqual(ids(7));
    expect(
      new Set(sink.written.map((r) => r.value.metadata.eventId)).size,
    ).toBe(7);
  });

  it("resumes after a restart from the recorded position, with no loss and no duplicate", async () => {
    const feed = memoryChangeFeed({ entriesPerSegment: 4 });
    const sink = collectingSink();
    const positions = memoryPositionStore();
    const first = await cdcRelay({ feed, sink, positions, maxBatch: 3 });
    for (const id of ids(6, "a")) write(feed, id);
    await until("first 6", () => sink.written.length === 6);
    await first.close();
    for (const id of ids(6, "b")) write(feed, id); // written while the relay is down
    const second = await cdcRelay({ feed, sink, positions, maxBatch: 3 });
    for (const id of ids(3, "c")) write(feed, id);
    await until("all 15", () => sink.written.length === 15);
    await second.close();
    expect(sink.written.map((r) => r.key)).toEqual([
      ...ids(6, "a"),
      ...ids(6, "b"),
      ...ids(3, "c"),
    ]);
    // The restart re-read the start of the recorded segment and skipped what was done.
    expect(second.stats.skipped).toBeGreaterThan(0);
  });

  it("after a failed write, a restart re-sends the unrecorded batch (at least once)", async () => {
    const feed = memoryChangeFeed({ entriesPerSegment: 100 });
    const sink = collectingSink();
    const positions = memoryPositionStore();
    const first = await cdcRelay({ feed, sink, positions, maxBatch: 2 });
    write(feed, "x0");
    write(feed, "x1");
    await until("first batch", () => sink.written.length === 2);
    sink.failNext = true;
    write(feed, "x2");
    await expect(first.done).rejects.toThrow("broker down");
    const second = await cdcRelay({ feed, sink, positions, maxBatch: 2 });
    write(feed, "x3");
    await until("x3", () => sink.written.length === 4);
    await second.close();
    expect(sink.written.map((r) => r.key)).toEqual(["x0", "x1", "x2", "x3"]);
  });

  it("keeps per-review order and drops a change older than one already published", async () => {
    const feed = memoryChangeFeed();
    const sink = collectingSink();
    const relay = await cdcRelay({
      feed,
      sink,
      positions: memoryPositionStore(),
    });
    write(feed, "r1", 10);
    write(feed, "r2", 11);
    write(feed, "r1", 30);
    write(feed, "r1", 20); // a late copy from another replica's log
    write(feed, "r2", 40);
    await until(
      "4 items handled",
      () => relay.stats.published + relay.stats.stale === 5,
    );
    await relay.close();
    const byKey = (k: string): string[] =>
      sink.written
        .filter((r) => r.key === k)
        .map((r) => r.headers?.["cdc-writetime-us"] ?? "");
    expect(byKey("r1")).toEqual(["10", "30"]);
    expect(byKey("r2")).toEqual(["11", "40"]);
    expect(relay.stats.stale).toBe(1);
  });

  it("frees committed segments so the log does not fill", async () => {
    const feed = memoryChangeFeed({ entriesPerSegment: 2 });
    const sink = collectingSink();
    const relay = await cdcRelay({
      feed,
      sink,
      positions: memoryPositionStore(),
    });
    for (const id of ids(9)) write(feed, id);
    await until("9 events", () => sink.written.length === 9);
    await relay.close();
    // Segments 1-4 are complete and relayed; segment 5 is still being written.
    expect(feed.segments()).toEqual([5]);
  });

  it("ignores other tables and rows without the id column", async () => {
    const feed = memoryChangeFeed();
    const sink = collectingSink();
    const relay = await cdcRelay({
      feed,
      sink,
      positions: memoryPositionStore(),
      tables: ["reviews_ks.reviews"],
    });
    feed.capture({
      keyspace: "other",
      table: "t",
      key: { id: "o" },
      op: "upsert",
    });
    feed.capture({ ...TABLE, key: { movie: "m" }, op: "upsert" });
    write(feed, "kept");
    await until("one event", () => sink.written.length === 1);
    await relay.close();
    expect(relay.stats.ignored).toBe(2);
  });

  it("pauses the feed when the queue is full and still relays everything", async () => {
    const feed = memoryChangeFeed({ entriesPerSegment: 50 });
    const sink = collectingSink();
    for (const id of ids(200)) write(feed, id);
    const relay: CdcRelay = await cdcRelay({
      feed,
      sink,
      positions: memoryPositionStore(),
      maxQueued: 10,
      maxBatch: 4,
    });
    await until("200 events", () => sink.written.length === 200);
    await relay.close();
    expect(sink.written.map((r) => r.key)).toEqual(ids(200));
  });

  it("encodes as the ReviewEvent Avro record through a memory sink", async () => {
    const codec = createCodec<ReviewEventValue>(
      "dev.sluice.reviews.ReviewEvent",
    );
    const log = new MemoryLog();
    log.createTopic("reviews", { partitions: 3 });
    const feed = memoryChangeFeed();
    const relay = await cdcRelay({
      feed,
      sink: memorySink<ReviewEventValue>(log, { topic: "reviews" }),
      positions: memoryPositionStore(),
    });
    const id = "0b6c2a54-3f0e-4c59-9d59-1c1d1e2f3a4b";
    write(feed, id);
    await until("position recorded", () => relay.position !== undefined);
    await relay.close();
    const rec = [0, 1, 2].flatMap((p) => log.read("reviews", p, 0, 10));
    expect(rec).toHaveLength(1);
    const value = rec[0]?.value as ReviewEventValue;
    const decoded = codec.decode(codec.encode(value));
    expect(decoded.reviewId).toBe(id);
    expect(
      comparePositions(relay.position!, { segmentId: 1, offset: 1, index: 0 }),
    ).toBe(0);
  });
});
