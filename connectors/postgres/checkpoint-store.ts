import type { CommitTrackerSnapshot } from "../../operators/commit-tracker.js";
import type { PartitionSnapshot } from "../../operators/state-backend.js";
import {
  CheckpointFencedError,
  type CheckpointPiece,
  type CheckpointStore,
  type FencedPartition,
  type StoredCheckpoint,
} from "../checkpoint-store.js";
import { toPostgresError } from "./classify.js";
import { PostgresMetrics } from "./metrics.js";
import type { PostgresPool } from "./pool.js";
import { inTransaction } from "./pool.js";
import { withRetries } from "./retry.js";
import { sqlFile } from "./sql.js";

/** Options of {@link postgresCheckpointStore}. */
export interface PostgresCheckpointStoreOptions {
  /** Schema of the `checkpoints` table (see `migratePostgres`). Default: the pool's. */
  readonly schema?: string;
  /** Tries of a save that fails with a retryable error (CockroachDB 40001). Default 3. */
  readonly maxAttempts?: number;
}

interface CheckpointRow {
  readonly topic: string;
  readonly partition: number;
  readonly state: PartitionSnapshot;
  readonly offsets: CommitTrackerSnapshot;
  readonly updated_at: Date;
}

/** A {@link CheckpointStore} on PostgreSQL/CockroachDB with its counters. */
export interface PostgresCheckpointStore extends CheckpointStore {
  readonly metrics: PostgresMetrics;
}

/**
 * Stores checkpoints in `<schema>.checkpoints`: every piece of one `saveCheckpoint` call —
 * keyed state and source offsets of each partition — is upserted in ONE transaction, so a
 * failure leaves the previous checkpoint of every partition in place. Claims live in
 * `<schema>.checkpoint_owners`; a save locks the owner rows of its pieces (`FOR UPDATE`) and
 * is refused when one of them was claimed by a newer owner.
 *
 * @example
 * ```ts
 * const store = postgresCheckpointStore(db);
 * await store.saveCheckpoint("enrich", [{ topic: "reviews", partition: 0, state, offsets }]);
 * const piece = await store.loadCheckpoint("enrich", "reviews", 0);
 * ```
 */
export function postgresCheckpointStore(
  db: PostgresPool,
  options: PostgresCheckpointStoreOptions = {},
): PostgresCheckpointStore {
  const names = { schema: options.schema ?? db.options.schema };
  const upsert = sqlFile("upsert-checkpoint", names);
  const select = sqlFile("select-checkpoint", names);
  const claim = sqlFile("claim-checkpoint", names);
  const lockOwner = sqlFile("lock-checkpoint-owner", names);
  const metrics = new PostgresMetrics();
  const retry = (what: string) => ({
    what,
    maxAttempts: options.maxAttempts ?? 3,
    backoffMs: 50,
    deadlineMs: db.options.outageDeadlineMs,
    metrics,
  });
  return {
    metrics,
    async saveCheckpoint(job, pieces: readonly CheckpointPiece[]) {
      if (pieces.length === 0) return;
      const params = pieces.map((p) => [
        job,
        p.topic,
        p.partition,
        JSON.stringify(p.state),
        JSON.stringify(p.offsets),
      ]);
      await withRetries(
        () =>
          inTransaction(
            db.pool,
            `postgres checkpoint save ${job}`,
            async (c) => {
              // Fencing first: the owner rows stay locked until the commit, so a claim
              // made meanwhile waits for this save and then wins.
              const fenced: FencedPartition[] = [];
              for (const p of pieces) {
                if (p.epoch === undefined) continue;
                const r = await c.query<{ epoch: string }>(lockOwner, [
                  job,
                  p.topic,
                  p.partition,
                ]);
                const ownerEpoch = Number(r.rows[0]?.epoch ?? 0);
                if (ownerEpoch !== p.epoch)
                  fenced.push({
                    topic: p.topic,
                    partition: p.partition,
                    epoch: p.epoch,
                    ownerEpoch,
                  });
              }
              if (fenced.length > 0)
                throw new CheckpointFencedError(job, fenced);
              for (const values of params) await c.query(upsert, values);
            },
          ),
        retry(`postgres checkpoint save ${job}`),
      );
      metrics.rowsWritten += pieces.length;
      metrics.batches += 1;
    },
    async claimCheckpoint(job, topic, partition) {
      const r = await withRetries(
        async () => {
          try {
            return await db.pool.query<{ epoch: string }>(claim, [
              job,
              topic,
              partition,
            ]);
          } catch (error) {
            throw toPostgresError(error, `postgres checkpoint claim ${job}`, {
              topic,
              partition,
            });
          }
        },
        retry(`postgres checkpoint claim ${job}`),
      );
      return Number(r.rows[0]!.epoch);
    },
    async loadCheckpoint(job, topic, partition) {
      const r = await withRetries(
        async () => {
          try {
            return await db.pool.query<CheckpointRow>(select, [
              job,
              topic,
              partition,
            ]);
          } catch (error) {
            throw toPostgresError(error, `postgres checkpoint load ${job}`, {
              topic,
              partition,
            });
          }
        },
        retry(`postgres checkpoint load ${job}`),
      );
      {
        const row = r.rows[0];
        if (row === undefined) return undefined;
        const piece: StoredCheckpoint = {
          topic: row.topic,
          partition: row.partition,
          state: row.state,
          offsets: row.offsets,
          updatedAt: row.updated_at,
        };
        return piece;
      }
    },
  };
}
