import type { CommitTrackerSnapshot } from "../../operators/commit-tracker.js";
import type { PartitionSnapshot } from "../../operators/state-backend.js";
import cassandra from "cassandra-driver";
import {
  CheckpointFencedError,
  type CheckpointPiece,
  type CheckpointStore,
  type FencedPartition,
} from "../checkpoint-store.js";
import { SluiceError } from "../../operators/sluice-error.js";
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
 * or none (eventually, through the batch log), so state and offsets never part. With fencing
 * (pieces carrying the epoch of `claimCheckpoint`), each piece is a lightweight transaction
 * `IF epoch = ?` of its own: state and offsets of a partition still never part, but when some
 * pieces are fenced the others may have been written (LWTs of different partitions cannot
 * share a batch); a restore needs each partition consistent, not the set.
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
  const selectEpoch = cqlFile("select-checkpoint-epoch", names);
  const claimFirst = cqlFile("claim-checkpoint-first", names);
  const claimNext = cqlFile("claim-checkpoint-next", names);
  const saveFenced = cqlFile("save-checkpoint-fenced", names);
  const metrics = new CassandraMetrics();
  /** Reads the epoch as the last Paxos round left it. */
  const readEpoch = async (
    job: string,
    topic: string,
    partition: number,
  ): Promise<{ exists: boolean; epoch: number }> => {
    const row = (
      await db.client.execute(selectEpoch, [job, topic, partition], {
        prepare: true,
        consistency: cassandra.types.consistencies.localSerial,
      })
    ).first() as cassandra.types.Row | null;
    if (row === null) return { exists: false, epoch: 0 };
    const e = row.get("epoch") as cassandra.types.Long | null;
    return { exists: true, epoch: e === null ? 0 : e.toNumber() };
  };
  const applied = (rs: cassandra.types.ResultSet): boolean =>
    rs.first()?.get("[applied]") === true;
  /** The fenced pieces are refused one by one (LWTs of different partitions cannot share a batch). */
  const saveWithEpochs = async (
    job: string,
    pieces: readonly CheckpointPiece[],
  ): Promise<void> => {
    const fenced: FencedPartition[] = [];
    await Promise.all(
      pieces.map(async (p) => {
        const rs = await db.client.execute(
          saveFenced,
          [
            JSON.stringify(p.state),
            JSON.stringify(p.offsets),
            job,
            p.topic,
            p.partition,
            cassandra.types.Long.fromNumber(p.epoch!),
          ],
          { prepare: true },
        );
        if (!applied(rs)) {
          const e = rs.first()?.get("epoch") as
            cassandra.types.Long | null | undefined;
          fenced.push({
            topic: p.topic,
            partition: p.partition,
            epoch: p.epoch!,
            ownerEpoch: e === null || e === undefined ? 0 : e.toNumber(),
          });
        }
      }),
    );
    if (fenced.length > 0) throw new CheckpointFencedError(job, fenced);
  };
  return {
    metrics,
    async saveCheckpoint(job, pieces: readonly CheckpointPiece[]) {
      if (pieces.length === 0) return;
      try {
        await db.connect();
        if (pieces.some((p) => p.epoch !== undefined)) {
          await saveWithEpochs(job, pieces);
          metrics.rowsWritten += pieces.length;
          metrics.batches += 1;
          return;
        }
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
    async claimCheckpoint(job, topic, partition) {
      try {
        await db.connect();
        // Compare-and-set on the epoch until it takes: concurrent claimants each get their
        // own epoch, the last one wins the partition.
        for (let attempt = 1; ; attempt++) {
          if (attempt > 100)
            throw new SluiceError(
              "CONFLICT",
              `cassandra checkpoint claim ${job}: ${topic}[${partition}] contended 100 times`,
              { retryable: true, context: { topic, partition } },
            );
          const { exists, epoch } = await readEpoch(job, topic, partition);
          const rs = exists
            ? await db.client.execute(
                claimNext,
                [
                  cassandra.types.Long.fromNumber(epoch + 1),
                  job,
                  topic,
                  partition,
                  epoch === 0 ? null : cassandra.types.Long.fromNumber(epoch),
                ],
                { prepare: true },
              )
            : await db.client.execute(claimFirst, [job, topic, partition], {
                prepare: true,
              });
          if (applied(rs)) return epoch + 1;
        }
      } catch (error) {
        metrics.errors += 1;
        throw toCassandraError(error, `cassandra checkpoint claim ${job}`, {
          topic,
          partition,
        });
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
        // A row that was only claimed has no state yet: no checkpoint.
        if (row === null || row === undefined || row.get("state") === null)
          return undefined;
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
