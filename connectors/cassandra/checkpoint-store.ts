import type { CommitTrackerSnapshot } from "../../operators/commit-tracker.js";
import type { PartitionSnapshot } from "../../operators/state-backend.js";
import type { CheckpointPiece, CheckpointStore } from "../checkpoint-store.js";
import { toCassandraError } from "./classify.js";
import type { CassandraClient } from "./client.js";
import { cqlFile } from "./cql.js";
import { CassandraMetrics } from "./metrics.js";

/** A {@link CheckpointStore} on Cassandra with its counters. */
export interface CassandraCheckpointStore extends CheckpointStore {
  readonly metrics: CassandraMetrics;
}

/**
 * Stores checkpoints in `<keyspace>.checkpoints`, one partition per (job, topic, partition).
 * The pieces of one `saveCheckpoint` go in one LOGGED batch: Cassandra applies all of them
 * or none (eventually, through the batch log), so state and offsets never part.
 *
 * @example
 * ```ts
 * const store = cassandraCheckpointStore(db);
 * await store.saveCheckpoint("recommend", [{ topic: "reviews-enriched", partition: 2, state, offsets }]);
 * ```
 */
export function cassandraCheckpointStore(
  db: CassandraClient,
): CassandraCheckpointStore {
  const names = { keyspace: db.options.keyspace };
  const upsert = cqlFile("upsert-checkpoint", names);
  const select = cqlFile("select-checkpoint", names);
  const metrics = new CassandraMetrics();
  return {
    metrics,
    async saveCheckpoint(job, pieces: readonly CheckpointPiece[]) {
      if (pieces.length === 0) return;
      try {
        await db.connect();
        const queries = pieces.map((p) => ({
          query: upsert,
          params: [
            job,
            p.topic,
            p.partition,
            JSON.stringify(p.state),
            JSON.stringify(p.offsets),
          ],
        }));
        await db.client.batch(queries, { prepare: true, logged: true });
        metrics.rowsWritten += pieces.length;
        metrics.batches += 1;
      } catch (error) {
        metrics.errors += 1;
        throw toCassandraError(error, `cassandra checkpoint save ${job}`);
      }
    },
    async loadCheckpoint(job, topic, partition) {
      try {
        await db.connect();
        const row = (
          await db.client.execute(select, [job, topic, partition], {
            prepare: true,
          })
        ).first();
        if (row === null || row === undefined) return undefined;
        return {
          topic: row.get("topic") as string,
          partition: row.get("partition") as number,
          state: JSON.parse(row.get("state") as string) as PartitionSnapshot,
          offsets: JSON.parse(
            row.get("offsets") as string,
          ) as CommitTrackerSnapshot,
          updatedAt: row.get("updated_at") as Date,
        };
      } catch (error) {
        metrics.errors += 1;
        throw toCassandraError(error, `cassandra checkpoint load ${job}`, {
          topic,
          partition,
        });
      }
    },
  };
}
