import { createHash, randomBytes } from "node:crypto";
import { defer, firstValueFrom, from, type Observable } from "rxjs";
import type { ClaimResult, DedupeStore } from "../../operators/dedupe.js";
import { toSluiceError } from "../../operators/sluice-error.js";
import { retryUntilDeadline } from "../internal/retry.js";
import { closedError, foreignValue } from "./errors.js";
import { MemcachedMetrics } from "./metrics.js";
import { resolveMemcachedDedupeStoreOptions } from "./options.js";
import type { MemcachedDedupeStoreOptions } from "./options.js";
import { MemcachedConnection } from "./protocol.js";

const CLAIMED = "claimed:";
const CONFIRMED = "confirmed";
/** Claim tokens remembered for release; the oldest go first past this many. */
const MAX_TOKENS = 100_000;

/** A {@link DedupeStore} on memcached, with its counters and a `close`. */
export interface MemcachedDedupeStore extends DedupeStore {
  readonly metrics: MemcachedMetrics;
  /** Closes the connections; idempotent. Later calls fail with CLOSED. */
  close(): Promise<void>;
}

type CacheClaim =
  | { readonly result: ClaimResult }
  | { readonly down: true; readonly error: unknown };

/**
 * An EVCache-style far cache for `dedupe` on memcached (binary protocol, memjs):
 *
 * - `claim` is `add` (atomic add-if-absent) of `claimed:<token>` with the claim TTL; when the
 *   key exists its value answers: `claimed:…` → `"exists"`, `confirmed` → `"confirmed"`.
 * - `confirm` is `set` of `confirmed` with the confirm TTL.
 * - `release` deletes the key only while it still holds this store's claim: it reads the
 *   value with its CAS and deletes with that CAS, so a claim that expired and was taken by
 *   another worker in between is never removed.
 * - With `authoritative`, a memcached miss (our `add` won) or outage is checked against the
 *   store of record, whose answer wins; a hit (`exists`/`confirmed`) is trusted.
 * - With `replicate`, every server is a full replica: claims are decided on the first
 *   server that answers and copied (with `add`) to the others; confirms and releases go to
 *   all; a replica that fails is counted and skipped.
 *
 * Keys are `keyPrefix + id`, or `keyPrefix + "h:" + sha256(id)` when the id is too long for
 * memcached (250 bytes) or holds spaces or control characters.
 *
 * @example
 * ```ts
 * const store = memcachedDedupeStore({ servers: ["127.0.0.1:11211"], authoritative: cassandraStore });
 * records$.pipe(dedupe({ idOf: (r) => r.value.eventId, store, ttlMs: 7 * 86_400_000 }));
 * ```
 */
export function memcachedDedupeStore(
  options: MemcachedDedupeStoreOptions,
): MemcachedDedupeStore {
  const o = resolveMemcachedDedupeStoreOptions(options);
  const conns = (o.replicate ? o.servers.map((s) => [s]) : [o.servers]).map(
    (servers) => new MemcachedConnection(servers, o),
  );
  const metrics = new MemcachedMetrics();
  const tokens = new Map<string, string>();
  let closed = false;

  const keyOf = (id: string): string => {
    const key = o.keyPrefix + id;
    return Buffer.byteLength(key) <= 250 &&
      /^[\x21-\x7e\x80-\uffff]+$/.test(key)
      ? key
      : `${o.keyPrefix}h:${createHash("sha256").update(id).digest("hex")}`;
  };
  const remember = (id: string, token: string): void => {
    tokens.delete(id);
    if (tokens.size >= MAX_TOKENS) tokens.delete(tokens.keys().next().value!);
    tokens.set(id, token);
  };
  const answer = (key: string, value: string): ClaimResult => {
    if (value === CONFIRMED) return "confirmed";
    if (value.startsWith(CLAIMED)) return "exists";
    throw foreignValue(o.name, key);
  };

  /** Runs `op` on every replica; resolves if one succeeded, else rejects with the last error. */
  const onAll = async (
    op: (c: MemcachedConnection) => Promise<unknown>,
  ): Promise<void> => {
    const results = await Promise.allSettled(conns.map(op));
    let failure: unknown;
    for (const r of results) {
      if (r.status === "fulfilled") metrics.writes += 1;
      else {
        metrics.errors += 1;
        failure = r.reason;
      }
    }
    if (results.every((r) => r.status === "rejected")) throw failure;
  };

  const claimInCache = async (
    key: string,
    token: string,
    ttlMs: number,
  ): Promise<CacheClaim> => {
    let error: unknown;
    for (let i = 0; i < conns.length; i++) {
      const conn = conns[i]!;
      try {
        const added = await conn.add(key, CLAIMED + token, ttlMs);
        metrics.writes += 1;
        if (added) {
          await onAll((c) =>
            c === conn ? Promise.resolve() : c.add(key, CLAIMED + token, ttlMs),
          ).catch(() => undefined);
          return { result: "claimed" };
        }
        const current = await conn.get(key);
        metrics.reads += 1;
        // Gone between add and get (expired): someone's claim just ended; ask again later.
        return {
          result: current === undefined ? "exists" : answer(key, current.value),
        };
      } catch (e) {
        metrics.errors += 1;
        error = e;
        if (i < conns.length - 1) metrics.retries += 1;
      }
    }
    return { down: true, error };
  };

  const releaseInCache = async (
    key: string,
    token: string | undefined,
  ): Promise<void> => {
    await onAll(async (c) => {
      const current = await c.get(key);
      metrics.reads += 1;
      if (current === undefined) return;
      const ours =
        token === undefined
          ? current.value.startsWith(CLAIMED)
          : current.value === CLAIMED + token;
      if (ours) await c.deleteIf(key, current.cas);
    });
  };

  /**
   * Without a store of record, memcached is the only answer: a server that is down (a
   * restart) is waited out through the connectors' retry helper until outageDeadlineMs,
   * listed as an outage meanwhile. With one, an outage is already answered by it.
   */
  const guarded = <V>(what: string, call: () => Promise<V>): Observable<V> =>
    defer(() => {
      if (closed) return Promise.reject(closedError(o.name));
      if (o.authoritative !== undefined) return from(call());
      return from(
        retryUntilDeadline(
          () => (closed ? Promise.reject(closedError(o.name)) : call()),
          {
            what: `${o.name} ${what} on ${o.servers.join(",")}`,
            deadlineMs: o.outageDeadlineMs,
            toError: (e) => toSluiceError(e, "UNAVAILABLE"),
            onRetry: () => {
              metrics.retries += 1;
            },
          },
        ),
      );
    });

  const claim = async (id: string, ttlMs: number): Promise<ClaimResult> => {
    const key = keyOf(id);
    const token = randomBytes(8).toString("hex");
    const cached = await claimInCache(key, token, ttlMs);
    const auth = o.authoritative;
    if ("down" in cached && auth === undefined) throw cached.error;
    if ("result" in cached && cached.result !== "claimed") return cached.result;
    if (auth === undefined) {
      remember(id, token);
      return "claimed";
    }
    metrics.authoritative += 1;
    const truth = await firstValueFrom(auth.claim(id, ttlMs));
    const weClaimed = "result" in cached;
    if (truth === "claimed") {
      if (weClaimed) remember(id, token);
      return truth;
    }
    if (weClaimed) {
      // The store of record knows this id: take our cache claim back, mirror a confirm.
      await (
        truth === "confirmed"
          ? onAll((c) => c.set(key, CONFIRMED, ttlMs))
          : releaseInCache(key, token)
      ).catch(() => undefined);
    }
    return truth;
  };

  const confirm = async (id: string, ttlMs: number): Promise<void> => {
    const key = keyOf(id);
    const auth = o.authoritative;
    if (auth !== undefined)
      await firstValueFrom(auth.confirm(id, ttlMs), {
        defaultValue: undefined,
      });
    const cached = onAll((c) => c.set(key, CONFIRMED, ttlMs));
    // With a store of record the confirm is already durable; the cache catches up by TTL.
    await (auth === undefined ? cached : cached.catch(() => undefined));
    tokens.delete(id);
  };

  const release = async (id: string): Promise<void> => {
    const key = keyOf(id);
    const token = tokens.get(id);
    tokens.delete(id);
    const auth = o.authoritative;
    const cached = releaseInCache(key, token);
    await (auth === undefined ? cached : cached.catch(() => undefined));
    if (auth !== undefined)
      await firstValueFrom(auth.release(id), { defaultValue: undefined });
  };

  return {
    metrics,
    claim: (id, ttlMs) => guarded("claim", () => claim(id, ttlMs)),
    confirm: (id, ttlMs) => guarded("confirm", () => confirm(id, ttlMs)),
    release: (id) => guarded("release", () => release(id)),
    close: () => {
      if (!closed) {
        closed = true;
        for (const c of conns) c.close();
      }
      return Promise.resolve();
    },
  };
}
