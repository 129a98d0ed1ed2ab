import { kafkaAdmin } from "../../../connectors/kafka/index.js";
import {
  createPostgresPool,
  migratePostgres,
  postgresCheckpointStore,
  quoteIdent,
  type PostgresPool,
} from "../../../connectors/postgres/index.js";
import type { CheckpointStore } from "../../../connectors/checkpoint-store.js";
import type { Endpoints } from "../../../stack/index.js";
import { kafkaBus, type EshopBus } from "../bus.js";
import { migrateEshop, postgresStores } from "../postgres-stores.js";
import type { EshopStores } from "../stores.js";
import { PRODUCTS } from "../system.js";

/** One e-shop run on the real stack: its own topics, consumer groups and PostgreSQL schema. */
export interface EshopStack {
  readonly bus: EshopBus;
  readonly stores: EshopStores;
  readonly db: PostgresPool;
  readonly checkpointStore: CheckpointStore;
  /** Consumer-group and checkpoint-job prefix of this run. */
  readonly groupPrefix: string;
  /** Drops the schema, deletes the topics and groups, closes the pool. */
  close(): Promise<void>;
}

/**
 * Creates a run named `runId` (lower-case letters, digits, underscores): topics
 * `<runId>.<topic>`, schema `<runId>` with the e-shop tables, the runtime's checkpoint table
 * and the demo catalogue.
 */
export async function openEshopStack(
  env: Endpoints,
  runId: string,
  options: { readonly partitions?: number } = {},
): Promise<EshopStack> {
  const db = createPostgresPool({ connectionString: env.databaseUrl });
  await migratePostgres(db, { schema: runId });
  await migrateEshop(db, { schema: runId });
  const stores = postgresStores(db, runId);
  await stores.stock.upsertProducts(PRODUCTS);
  const bus = kafkaBus({
    brokers: env.kafkaBrokers,
    partitions: options.partitions ?? 4,
    prefix: `${runId}.`,
  });
  await bus.createTopics();
  const groupPrefix = `${runId}.`;
  return {
    bus,
    stores,
    db,
    checkpointStore: postgresCheckpointStore(db, { schema: runId }),
    groupPrefix,
    async close() {
      await bus.deleteTopics().catch(() => undefined);
      const admin = kafkaAdmin({ brokers: env.kafkaBrokers });
      try {
        await admin
          .deleteGroups(
            ["ordering", "ordering-relay", "catalog", "payment", "basket"].map(
              (g) => `${groupPrefix}${g}`,
            ),
          )
          .catch(() => undefined);
      } finally {
        await admin.close();
      }
      await db.pool.query(`DROP SCHEMA IF EXISTS ${quoteIdent(runId)} CASCADE`);
      await db.end();
    },
  };
}
