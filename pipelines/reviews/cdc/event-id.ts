import { createHash } from "node:crypto";
import type { ChangeEvent } from "./change-feed.js";

/**
 * The deterministic id of a change: a name-based (SHA-1, version 5 layout) UUID of keyspace,
 * table, partition key, write time and op. Every replica's copy of one write, and every re-read
 * of it after a restart, gets the same id, so `dedupe` here and consumers' caches drop them.
 *
 * @example
 * changeEventId(change); // "8f0e…-5…"
 */
export function changeEventId(change: ChangeEvent): string {
  const key = Object.keys(change.key)
    .sort()
    .map((k) => `${k}=${change.key[k] ?? ""}`)
    .join("&");
  const h = createHash("sha1")
    .update(
      `${change.keyspace}\u0000${change.table}\u0000${key}\u0000${String(change.writetimeMicros)}\u0000${change.op}`,
    )
    .digest();
  h[6] = ((h[6] ?? 0) & 0x0f) | 0x50;
  h[8] = ((h[8] ?? 0) & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString("hex");
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}
