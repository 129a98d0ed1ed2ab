import { randomUUID } from "node:crypto";
import { closedError } from "../internal/errors.js";

/** One item to make due at a time. `id` is its idempotency key: enqueuing it again is a no-op. */
export interface SendAtItem<T> {
  readonly id: string;
  /** When it becomes due, epoch ms. */
  readonly dueAt: number;
  readonly payload: T;
}

/** An item handed out by {@link SendAtQueue.claim}, leased to the claimer. */
export interface ClaimedItem<T> extends SendAtItem<T> {
  /** Proof of the lease: `complete`/`release` with another token do nothing. */
  readonly leaseToken: string;
  /** Claims so far, this one included (more than 1 after a crash or a release). */
  readonly attempts: number;
}

/**
 * A durable send-at queue: items become due at a time; due items are claimed with a lease
 * (`FOR UPDATE SKIP LOCKED` on PostgreSQL), so several workers share them and an item whose
 * claimer crashed is handed out again when its lease ends. `complete` removes an item for
 * good; `release` puts it back (optionally later).
 *
 * @example
 * ```ts
 * await queue.enqueue([{ id: "brief/u-1", dueAt: at0750, payload: email }]);
 * for (const item of await queue.claim(clock.now(), 50, 60_000)) { await send(item.payload); await queue.complete(item); }
 * ```
 */
export interface SendAtQueue<T> {
  readonly name: string;
  /** Adds items not already queued (by id, done ones included); returns how many were new. */
  enqueue(items: readonly SendAtItem<T>[]): Promise<number>;
  /** Leases up to `limit` items due at `nowMs`, earliest first, until `nowMs + leaseMs`. */
  claim(
    nowMs: number,
    limit: number,
    leaseMs: number,
  ): Promise<readonly ClaimedItem<T>[]>;
  /** Marks a claimed item done (if the lease is still its claimer's). */
  complete(item: ClaimedItem<T>, atMs: number): Promise<void>;
  /** Gives a claimed item back, due again at `dueAt` (default: now). */
  release(item: ClaimedItem<T>, atMs: number, dueAt?: number): Promise<void>;
  /** Items not yet done (due or not). */
  pending(): Promise<number>;
  /** The earliest due time of the items not done, or undefined. */
  nextDueAt(): Promise<number | undefined>;
  close(): Promise<void>;
}

interface Row<T> {
  item: SendAtItem<T>;
  leaseUntil: number | undefined;
  leaseToken: string | undefined;
  attempts: number;
  done: boolean;
}

/**
 * An in-process {@link SendAtQueue} (embedded default, unit tests). Not durable across
 * processes; the PostgreSQL one is.
 *
 * @example
 * ```ts
 * const queue = memorySendAtQueue<Email>();
 * ```
 */
export function memorySendAtQueue<T>(): SendAtQueue<T> {
  const rows = new Map<string, Row<T>>();
  let closed = false;
  const name = "memory-send-at-queue";
  const check = (): void => {
    if (closed) throw closedError(name);
  };
  return {
    name,
    enqueue(items) {
      check();
      let added = 0;
      for (const item of items) {
        if (rows.has(item.id)) continue;
        rows.set(item.id, {
          item,
          leaseUntil: undefined,
          leaseToken: undefined,
          attempts: 0,
          done: false,
        });
        added += 1;
      }
      return Promise.resolve(added);
    },
    claim(nowMs, limit, leaseMs) {
      check();
      const due = [...rows.values()]
        .filter(
          (r) =>
            !r.done &&
            r.item.dueAt <= nowMs &&
            (r.leaseUntil === undefined || r.leaseUntil <= nowMs),
        )
        .sort(
          (a, b) =>
            a.item.dueAt - b.item.dueAt || (a.item.id < b.item.id ? -1 : 1),
        )
        .slice(0, limit);
      return Promise.resolve(
        due.map((r) => {
          r.leaseUntil = nowMs + leaseMs;
          r.leaseToken = randomUUID();
          r.attempts += 1;
          return { ...r.item, leaseToken: r.leaseToken, attempts: r.attempts };
        }),
      );
    },
    complete(item) {
      check();
      const r = rows.get(item.id);
      if (r !== undefined && r.leaseToken === item.leaseToken) {
        r.done = true;
        r.leaseUntil = undefined;
      }
      return Promise.resolve();
    },
    release(item, atMs, dueAt) {
      check();
      const r = rows.get(item.id);
      if (r !== undefined && r.leaseToken === item.leaseToken && !r.done) {
        r.leaseUntil = undefined;
        r.leaseToken = undefined;
        r.item = { ...r.item, dueAt: dueAt ?? atMs };
      }
      return Promise.resolve();
    },
    pending() {
      check();
      return Promise.resolve([...rows.values()].filter((r) => !r.done).length);
    },
    nextDueAt() {
      check();
      let min: number | undefined;
      for (const r of rows.values())
        if (!r.done && (min === undefined || r.item.dueAt < min))
          min = r.item.dueAt;
      return Promise.resolve(min);
    },
    close() {
      closed = true;
      return Promise.resolve();
    },
  };
}
