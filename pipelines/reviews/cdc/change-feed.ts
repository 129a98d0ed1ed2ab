import type { Observable } from "rxjs";

/**
 * Where a change sits in the CDC log: commit-log segment id, end offset of the commit-log
 * entry inside the segment, and the index of the partition update inside that entry. Ordered
 * lexicographically; a segment end sorts after every entry of its segment.
 */
export interface ChangePosition {
  readonly segmentId: number;
  readonly offset: number;
  readonly index: number;
}

/** Offset of a segment end: after every entry of the segment. */
export const SEGMENT_END_OFFSET = Number.MAX_SAFE_INTEGER;

/** What a write did to a row: Cassandra's log cannot tell an insert from an update. */
export type ChangeOp = "upsert" | "delete";

/** One partition update of a watched table, as the CDC log recorded it. */
export interface ChangeEvent {
  readonly kind: "change";
  readonly keyspace: string;
  readonly table: string;
  /** Partition key columns, each as CQL text (a uuid as its canonical string). */
  readonly key: { readonly [column: string]: string };
  readonly op: ChangeOp;
  /** Write time of the update in microseconds since the epoch (Cassandra's writetime). */
  readonly writetimeMicros: number;
  readonly position: ChangePosition;
}

/** The log says a segment is complete and every change in it was emitted before this. */
export interface SegmentEnd {
  readonly kind: "segment-end";
  readonly position: ChangePosition;
}

/** What a {@link ChangeFeed} emits, in log order. */
export type FeedItem = ChangeEvent | SegmentEnd;

/**
 * A change-data-capture log of table writes, read in log order. The Cassandra reader
 * (`cassandraChangeFeed`) and the in-memory simulation (`memoryChangeFeed`) implement it.
 *
 * @example
 * ```ts
 * feed.changes(saved).subscribe((item) => queue.push(item));
 * await feed.commit(lastWritten.position); // segments before it may be deleted
 * ```
 */
export interface ChangeFeed {
  readonly name: string;
  /**
   * The items after `from` (every item when undefined), in log order. Items at or before
   * `from` may be emitted again (a reader restarts at segment granularity); callers drop
   * them with {@link isAfter}. Errors end the stream; one subscription at a time.
   */
  changes(from: ChangePosition | undefined): Observable<FeedItem>;
  /**
   * Everything at or before `position` is durably handled: the log may free it (the
   * Cassandra feed deletes completed segments from cdc_raw). Idempotent.
   */
  commit(position: ChangePosition): Promise<void>;
  /** Stops reading new items until {@link ChangeFeed.resume} (bounded intake). */
  pause(): void;
  resume(): void;
  /** Ends the stream and releases the reader. Idempotent. */
  close(): Promise<void>;
}

/**
 * Orders two positions: negative when `a` is before `b`.
 *
 * @example
 * comparePositions({ segmentId: 1, offset: 9, index: 0 }, { segmentId: 2, offset: 0, index: 0 }); // < 0
 */
export function comparePositions(a: ChangePosition, b: ChangePosition): number {
  if (a.segmentId !== b.segmentId) return a.segmentId < b.segmentId ? -1 : 1;
  if (a.offset !== b.offset) return a.offset < b.offset ? -1 : 1;
  return a.index - b.index;
}

/**
 * True when `position` comes after `from` (always when `from` is undefined).
 *
 * @example
 * isAfter({ segmentId: 1, offset: 5, index: 1 }, { segmentId: 1, offset: 5, index: 0 }); // true
 */
export function isAfter(
  position: ChangePosition,
  from: ChangePosition | undefined,
): boolean {
  return from === undefined || comparePositions(position, from) > 0;
}
