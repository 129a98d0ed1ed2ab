import { LRUCache } from "lru-cache";
import type { Subscription } from "rxjs";
import type { OutgoingRecord, Sink } from "../../../connectors/types.js";
import {
  isAfter,
  type ChangeEvent,
  type ChangeFeed,
  type ChangePosition,
  type FeedItem,
} from "./change-feed.js";
import { changeEventId } from "./event-id.js";
import type { PositionStore } from "./position-store.js";

/** The `ReviewEvent` Avro record (avro/schemas/ReviewEvent.avsc): the review's id, not its data. */
export interface ReviewEventValue {
  readonly metadata: {
    readonly eventId: string;
    readonly occurredAt: number;
    readonly producer: string;
    readonly correlationId: string | null;
  };
  readonly reviewId: string;
}

/** Options of {@link cdcRelay}. */
export interface CdcRelayOptions {
  readonly feed: ChangeFeed;
  /** Writes ReviewEvents, keyed by review id (a Kafka sink on `reviews`, or a memory sink). */
  readonly sink: Sink<ReviewEventValue>;
  readonly positions: PositionStore;
  /** `keyspace.table` names whose changes are relayed. Default: every table the feed reads. */
  readonly tables?: readonly string[];
  /** Partition-key column holding the review id. Default `"id"`. */
  readonly idColumn?: string;
  /** Topic on the records; default: the sink's own topic. */
  readonly topic?: string;
  /** `metadata.producer` of the events. Default `"reviews-cdc-relay"`. */
  readonly producer?: string;
  /** Largest batch handed to the sink. Default 500. */
  readonly maxBatch?: number;
  /** Queued items above which the feed is paused (resumed at half). Default 5 000. */
  readonly maxQueued?: number;
  /** Event ids remembered to drop replica and re-read duplicates. Default 100 000. */
  readonly dedupeCapacity?: number;
}

/** Counters of a running relay. */
export interface CdcRelayStats {
  /** Events written to the sink. */
  published: number;
  /** Changes dropped because their event id was already written (replica copies, re-reads). */
  duplicates: number;
  /** Changes older than an event already written for the same review id. */
  stale: number;
  /** Changes of other tables, or without the id column. */
  ignored: number;
  /** Items at or before the recorded position, skipped after a restart. */
  skipped: number;
  /** Batches written. */
  batches: number;
}

/** A running relay: see {@link cdcRelay}. */
export interface CdcRelay {
  readonly stats: CdcRelayStats;
  /** The last position recorded, or undefined before the first. */
  readonly position: ChangePosition | undefined;
  /** Rejects when the relay stops on an error (feed, sink or position store); resolves on close. */
  readonly done: Promise<void>;
  /** Stops intake, writes what is queued, records the position. Idempotent; the feed stays open (the caller owns it). */
  close(): Promise<void>;
}

/**
 * Relays CDC changes of the review table to ReviewEvents, at least once: it loads the
 * recorded position, reads the feed after it, drops duplicate and stale changes, writes
 * batches in log order keyed by review id (so one review's events stay in order on one
 * partition), and only after a batch is written records its last position and lets the feed
 * free what is before it (Cassandra: delete processed cdc_raw segments).
 *
 * @example
 * ```ts
 * const relay = await cdcRelay({ feed, sink: kafkaSink({ brokers, topic: "reviews", encode }), positions });
 * await relay.close();
 * ```
 */
export async function cdcRelay(options: CdcRelayOptions): Promise<CdcRelay> {
  const {
    feed,
    sink,
    positions,
    idColumn = "id",
    producer = "reviews-cdc-relay",
    maxBatch = 500,
    maxQueued = 5_000,
    dedupeCapacity = 100_000,
  } = options;
  for (const [field, v] of [
    ["maxBatch", maxBatch],
    ["maxQueued", maxQueued],
    ["dedupeCapacity", dedupeCapacity],
  ] as const) {
    if (!Number.isInteger(v) || v < 1) {
      throw new RangeError(`cdcRelay.${field} must be a positive integer`);
    }
  }
  const tables =
    options.tables === undefined ? undefined : new Set(options.tables);
  const stats: CdcRelayStats = {
    published: 0,
    duplicates: 0,
    stale: 0,
    ignored: 0,
    skipped: 0,
    batches: 0,
  };
  const seen = new LRUCache<string, true>({ max: dedupeCapacity });
  const newest = new LRUCache<string, number>({ max: dedupeCapacity });

  await sink.connect();
  const from = await positions.load();
  if (from !== undefined) await feed.commit(from); // frees what a crash left behind
  let position = from;

  const queue: FeedItem[] = [];
  let paused = false;
  let ended = false;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const signal = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };

  const subscription: Subscription = feed.changes(from).subscribe({
    next: (item) => {
      if (!isAfter(item.position, from)) {
        stats.skipped++;
        return;
      }
      queue.push(item);
      if (!paused && queue.length >= maxQueued) {
        paused = true;
        feed.pause();
      }
      signal();
    },
    error: (e: unknown) => {
      failure ??= e instanceof Error ? e : new Error(String(e));
      ended = true;
      signal();
    },
    complete: () => {
      ended = true;
      signal();
    },
  });

  const toRecord = (
    change: ChangeEvent,
    inBatch: Set<string>,
    newestInBatch: Map<string, number>,
  ): OutgoingRecord<ReviewEventValue> | undefined => {
    const reviewId = change.key[idColumn];
    if (
      reviewId === undefined ||
      (tables !== undefined &&
        !tables.has(`${change.keyspace}.${change.table}`))
    ) {
      stats.ignored++;
      return undefined;
    }
    const eventId = changeEventId(change);
    if (seen.has(eventId) || inBatch.has(eventId)) {
      stats.duplicates++;
      return undefined;
    }
    const last = newestInBatch.get(reviewId) ?? newest.get(reviewId);
    if (last !== undefined && change.writetimeMicros < last) {
      stats.stale++;
      return undefined;
    }
    inBatch.add(eventId);
    newestInBatch.set(reviewId, change.writetimeMicros);
    const occurredAt = Math.floor(change.writetimeMicros / 1000);
    return {
      ...(options.topic !== undefined ? { topic: options.topic } : {}),
      key: reviewId,
      value: {
        metadata: { eventId, occurredAt, producer, correlationId: null },
        reviewId,
      },
      timestamp: occurredAt,
      headers: {
        "cdc-op": change.op,
        "cdc-writetime-us": String(change.writetimeMicros),
        "cdc-source": `${change.keyspace}.${change.table}`,
        "cdc-position": `${String(change.position.segmentId)}:${String(change.position.offset)}:${String(change.position.index)}`,
      },
    };
  };

  const writeBatch = async (items: readonly FeedItem[]): Promise<void> => {
    const last = items[items.length - 1];
    if (last === undefined) return;
    const inBatch = new Set<string>();
    const newestInBatch = new Map<string, number>();
    const records: OutgoingRecord<ReviewEventValue>[] = [];
    for (const item of items) {
      if (item.kind !== "change") continue;
      const r = toRecord(item, inBatch, newestInBatch);
      if (r !== undefined) records.push(r);
    }
    if (records.length > 0) {
      await sink.write(records);
      stats.published += records.length;
      stats.batches++;
    }
    for (const id of inBatch) seen.set(id, true);
    for (const [id, t] of newestInBatch) newest.set(id, t);
    await positions.save(last.position);
    position = last.position;
    await feed.commit(last.position);
  };

  let closing = false;
  const loop = async (): Promise<void> => {
    for (;;) {
      if (queue.length === 0) {
        if (ended || closing) break;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        continue;
      }
      const batch = queue.splice(0, maxBatch);
      await writeBatch(batch);
      if (paused && queue.length <= maxQueued / 2) {
        paused = false;
        feed.resume();
      }
    }
    if (failure !== undefined) throw failure;
  };
  const done = loop().finally(() => subscription.unsubscribe());
  // Observed by callers through `done`; keep an unobserved rejection from crashing the process.
  done.catch(() => undefined);

  let closed: Promise<void> | undefined;
  return {
    stats,
    get position() {
      return position;
    },
    done,
    close() {
      closed ??= (async () => {
        closing = true;
        subscription.unsubscribe();
        signal();
        await done;
      })();
      return closed;
    },
  };
}
