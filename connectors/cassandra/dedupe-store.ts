import { randomBytes } from "node:crypto";
import { defer, type Observable } from "rxjs";
import type { ClaimResult, DedupeStore } from "../../operators/dedupe.js";
import { toCassandraError } from "./classify.js";
import type { CassandraClient } from "./client.js";
import { cqlFile } from "./cql.js";
import { CassandraMetrics } from "./metrics.js";
import { ttlSeconds } from "./options.js";

/** A {@link DedupeStore} on Cassandra with its counters. */
export interface CassandraDedupeStore extends DedupeStore {
  readonly metrics: CassandraMetrics;
}

/** Claim owners remembered for release; the oldest go first past this many. */
const MAX_OWNERS = 100_000;

/**
 * The far store of `dedupe` on Cassandra (table `<keyspace>.dedupe`, see
 * `applyCassandraSchema`), also the store of record behind the memcached cache:
 *
 * - `claim`: `INSERT … IF NOT EXISTS USING TTL` (a lightweight transaction, LOCAL_SERIAL)
 *   with a random owner; when not applied, the existing row's state answers.
 * - `confirm`: `UPDATE … USING TTL … SET state = 'confirmed'` — a plain write, so a confirm
 *   lands even when the claim already expired.
 * - `release`: `DELETE … IF state = 'claimed' AND owner = ?` — only this store's own claim
 *   is removed, never a confirm or a claim another worker took after ours expired (a claim
 *   this instance did not make is released while still `claimed`).
 *
 * @example
 * ```ts
 * const store = cassandraDedupeStore(db);
 * records$.pipe(dedupe({ idOf: (r) => r.value.reviewId, store, ttlMs: 86_400_000 }));
 * ```
 */
export function cassandraDedupeStore(
  db: CassandraClient,
): CassandraDedupeStore {
  const names = { keyspace: db.options.keyspace };
  const claimCql = cqlFile("claim-dedupe", names);
  const confirmCql = cqlFile("confirm-dedupe", names);
  const releaseCql = cqlFile("release-dedupe", names);
  const releaseAnyCql = cqlFile("release-dedupe-any", names);
  const metrics = new CassandraMetrics();
  const owners = new Map<string, string>();

  const run = <V>(
    what: string,
    id: string,
    call: () => Promise<V>,
  ): Observable<V> =>
    defer(async () => {
      try {
        await db.connect();
        const v = await call();
        metrics.rowsWritten += 1;
        return v;
      } catch (error) {
        metrics.errors += 1;
        throw toCassandraError(error, `cassandra dedupe ${what}`, { key: id });
      }
    });

  return {
    metrics,
    claim: (id, ttlMs) =>
      run("claim", id, async (): Promise<ClaimResult> => {
        const owner = randomBytes(8).toString("hex");
        const r = await db.client.execute(
          claimCql,
          [id, owner, ttlSeconds(ttlMs)],
          {
            prepare: true,
          },
        );
        if (r.wasApplied()) {
          owners.delete(id);
          if (owners.size >= MAX_OWNERS)
            owners.delete(owners.keys().next().value!);
          owners.set(id, owner);
          return "claimed";
        }
        const state: unknown = r.first()?.get("state");
        return state === "confirmed" ? "confirmed" : "exists";
      }),
    confirm: (id, ttlMs) =>
      run("confirm", id, async () => {
        await db.client.execute(confirmCql, [ttlSeconds(ttlMs), id], {
          prepare: true,
          isIdempotent: true,
        });
        owners.delete(id);
      }),
    release: (id) =>
      run("release", id, async () => {
        const owner = owners.get(id);
        owners.delete(id);
        await (owner === undefined
          ? db.client.execute(releaseAnyCql, [id], { prepare: true })
          : db.client.execute(releaseCql, [id, owner], { prepare: true }));
      }),
  };
}
