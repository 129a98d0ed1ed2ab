import { Observable } from "rxjs";
import {
  SEGMENT_END_OFFSET,
  type ChangeFeed,
  type ChangeOp,
  type ChangePosition,
  type FeedItem,
} from "./change-feed.js";

/** A write the in-memory review store reports to the simulated CDC log. */
export interface CapturedWrite {
  readonly keyspace: string;
  readonly table: string;
  readonly key: { readonly [column: string]: string };
  readonly op: ChangeOp;
  /** Default: the feed's clock in microseconds, strictly increasing. */
  readonly writetimeMicros?: number;
}

/** Options of {@link memoryChangeFeed}. */
export interface MemoryChangeFeedOptions {
  /** Entries per simulated commit-log segment. Default 64. */
  readonly entriesPerSegment?: number;
  /** Copies of each write, as a relay reading every replica's log would see. Default 1. */
  readonly replicas?: number;
  /** Clock in milliseconds for default write times. Default `Date.now`. */
  readonly nowMs?: () => number;
}

/**
 * The embedded simulation of Cassandra CDC: an in-memory log of captured writes cut into
 * segments, with the real feed's semantics (log order, segment ends, re-reads from the start
 * of a segment after a restart, committed segments deleted). For `sluice demo` and tests.
 *
 * @example
 * ```ts
 * const feed = memoryChangeFeed();
 * store.onWrite((w) => feed.capture(w)); // the memory review store's write hook
 * ```
 */
export class MemoryChangeFeed implements ChangeFeed {
  readonly name = "memory-cdc";
  private readonly perSegment: number;
  private readonly replicas: number;
  private readonly nowMs: () => number;
  /** Retained items; `items[i]` has sequence number `base + i`. */
  private items: FeedItem[] = [];
  private base = 0;
  private written = 0;
  private lastMicros = 0;
  private paused = false;
  private closed = false;
  private reader: (() => void) | undefined;

  constructor(options: MemoryChangeFeedOptions = {}) {
    this.perSegment = options.entriesPerSegment ?? 64;
    this.replicas = options.replicas ?? 1;
    this.nowMs = options.nowMs ?? Date.now;
    if (!Number.isInteger(this.perSegment) || this.perSegment < 1) {
      throw new RangeError(
        "memoryChangeFeed.entriesPerSegment must be a positive integer",
      );
    }
  }

  /** Appends a write (and its replica copies) to the log. */
  capture(write: CapturedWrite): void {
    if (this.closed) return;
    const micros =
      write.writetimeMicros ??
      (this.lastMicros = Math.max(this.lastMicros + 1, this.nowMs() * 1000));
    for (let r = 0; r < this.replicas; r++) {
      const n = this.written++;
      const segmentId = Math.floor(n / this.perSegment) + 1;
      const slot = n % this.perSegment;
      if (slot === 0 && segmentId > 1) {
        this.items.push({
          kind: "segment-end",
          position: {
            segmentId: segmentId - 1,
            offset: SEGMENT_END_OFFSET,
            index: 0,
          },
        });
      }
      this.items.push({
        kind: "change",
        keyspace: write.keyspace,
        table: write.table,
        key: { ...write.key },
        op: write.op,
        writetimeMicros: micros,
        position: { segmentId, offset: slot + 1, index: 0 },
      });
    }
    this.reader?.();
  }

  /** Ids of the segments still held (not yet freed by a commit), oldest first. */
  segments(): number[] {
    const ids = new Set<number>();
    for (const item of this.items) ids.add(item.position.segmentId);
    return [...ids];
  }

  changes(from: ChangePosition | undefined): Observable<FeedItem> {
    return new Observable<FeedItem>((subscriber) => {
      if (this.reader !== undefined) {
        subscriber.error(new Error(`${this.name}: one subscription at a time`));
        return undefined;
      }
      // Like the real reader: restart at the start of `from`'s segment.
      const next = this.items.findIndex(
        (i) => from === undefined || i.position.segmentId >= from.segmentId,
      );
      let seq = next === -1 ? this.base + this.items.length : this.base + next;
      const pump = (): void => {
        if (this.closed) {
          subscriber.complete();
          return;
        }
        while (!this.paused && !subscriber.closed) {
          const item = this.items[seq - this.base];
          if (item === undefined) break;
          seq++;
          subscriber.next(item);
        }
      };
      this.reader = pump;
      pump();
      return () => {
        if (this.reader === pump) this.reader = undefined;
      };
    });
  }

  commit(position: ChangePosition): Promise<void> {
    // Free whole segments at or before the position that the log has completed.
    let drop = 0;
    for (const item of this.items) {
      const seg = item.position.segmentId;
      const complete =
        seg < position.segmentId ||
        (seg === position.segmentId && position.offset === SEGMENT_END_OFFSET);
      if (!complete || !this.segmentEnded(seg)) break;
      drop++;
    }
    if (drop > 0) {
      this.items = this.items.slice(drop);
      this.base += drop;
    }
    return Promise.resolve();
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.reader?.();
  }

  close(): Promise<void> {
    this.closed = true;
    this.reader?.();
    return Promise.resolve();
  }

  /** Position of the last item in the log, or undefined when nothing was captured. */
  head(): ChangePosition | undefined {
    return this.items[this.items.length - 1]?.position;
  }

  private segmentEnded(segmentId: number): boolean {
    return this.items.some(
      (i) => i.kind === "segment-end" && i.position.segmentId === segmentId,
    );
  }
}

/**
 * Builds the in-memory CDC log. See {@link MemoryChangeFeed}.
 *
 * @example
 * const feed = memoryChangeFeed({ entriesPerSegment: 8, replicas: 3 });
 */
export function memoryChangeFeed(
  options: MemoryChangeFeedOptions = {},
): MemoryChangeFeed {
  return new MemoryChangeFeed(options);
}
