import { z } from "zod";
import {
  createPostgresPool,
  type PostgresPool,
} from "../../../connectors/postgres/index.js";
import { ConfigError, type RuntimeConfig } from "../../../runtime/config.js";
import { kafkaBus, type EshopBus, type EshopWiring } from "../bus.js";
import { migrateEshop, postgresStores } from "../postgres-stores.js";
import type { EshopStores } from "../stores.js";

/** Config every e-shop job shares: topic prefix, partitions, PostgreSQL schema, group prefix. */
export const shared = {
  topicPrefix: z.string().default(""),
  groupPrefix: z.string().default("eshop-"),
  partitions: z.number().int().positive().default(4),
  schema: z
    .string()
    .regex(/^[a-z][a-z0-9_]{0,47}$/, "must match [a-z][a-z0-9_]{0,47}")
    .default("eshop"),
};

/** The bus on the runtime's Kafka (`KAFKA_BROKERS`), topics created. */
export async function busFor(
  runtime: RuntimeConfig,
  c: { readonly topicPrefix: string; readonly partitions: number },
): Promise<EshopBus> {
  if (runtime.kafka === undefined)
    throw new ConfigError(["kafka.brokers must be set (or set KAFKA_BROKERS)"]);
  const bus = kafkaBus({
    brokers: runtime.kafka.brokers,
    partitions: c.partitions,
    prefix: c.topicPrefix,
  });
  await bus.createTopics();
  return bus;
}

/** PostgreSQL (`DATABASE_URL`), migrated, as the e-shop's stores; the pool ends at shutdown. */
export async function storesFor(
  w: EshopWiring,
  runtime: RuntimeConfig,
  schema: string,
): Promise<{ readonly db: PostgresPool; readonly stores: EshopStores }> {
  if (runtime.postgres === undefined)
    throw new ConfigError(["postgres.url must be set (or set DATABASE_URL)"]);
  const db = createPostgresPool({
    connectionString: runtime.postgres.url.reveal(),
  });
  w.onShutdown(() => db.end());
  await migrateEshop(db, { schema });
  return { db, stores: postgresStores(db, schema) };
}

/** Resolves when `signal` aborts (shutdown started). */
export function aborted(signal: AbortSignal): Promise<void> {
  return signal.aborted
    ? Promise.resolve()
    : new Promise((resolve) =>
        signal.addEventListener("abort", () => resolve(), { once: true }),
      );
}
