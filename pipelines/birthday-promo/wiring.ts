import type { SchedulerLike } from "rxjs";
import {
  memoryActionLog,
  type ActionLog,
} from "../../connectors/fanout/action-log.js";
import {
  migrateFanoutTables,
  postgresActionLog,
} from "../../connectors/fanout/postgres.js";
import {
  postgresDeadLetters,
  type DeadLetterRow,
} from "../../connectors/postgres/dead-letters.js";
import { migratePostgres } from "../../connectors/postgres/migrate.js";
import type { PostgresPool } from "../../connectors/postgres/pool.js";
import {
  migrateScheduleTables,
  postgresFiringStore,
} from "../../connectors/schedule/postgres-store.js";
import {
  memoryFiringStore,
  type FiringStore,
} from "../../connectors/schedule/store.js";
import { smtpSender, type SmtpSender } from "../../connectors/smtp/sender.js";
import {
  startSmtpCapture,
  type SmtpCapture,
} from "../../connectors/smtp/testing/smtp-capture.js";
import type { PromoDeadLetters, PromoDeps } from "./run.js";
import {
  memoryPromoStores,
  migrateBirthdayPromo,
  postgresPromoStores,
} from "./stores.js";
import { whatsAppClient } from "./whatsapp/client.js";
import {
  startWhatsAppSimulator,
  type WhatsAppSimulator,
} from "./whatsapp/simulator.js";

/** Dead letters kept in memory (the embedded default). */
export function memoryDeadLetters(): PromoDeadLetters & {
  readonly rows: DeadLetterRow[];
} {
  const rows: DeadLetterRow[] = [];
  return {
    rows,
    write(row) {
      rows.push(row);
      return Promise.resolve();
    },
  };
}

/** Options of {@link startLocalWorld}. */
export interface LocalWorldOptions {
  /** Fraction of WhatsApp calls the simulator fails. Default 0. */
  readonly whatsappFailureRate?: number;
  /** Fraction of emails the capture server refuses with a 451. Default 0. */
  readonly smtpFailureRate?: number;
  readonly whatsappLatencyMs?: number;
  readonly seed?: number;
  /** PostgreSQL pool and schema: without them, memory stores (the embedded default). */
  readonly postgres?: { readonly db: PostgresPool; readonly schema: string };
  readonly scheduler?: SchedulerLike;
}

/** A running local world: stores, the capture SMTP server and the WhatsApp simulator. */
export interface LocalWorld {
  readonly deps: PromoDeps;
  readonly firings: FiringStore;
  readonly log: ActionLog;
  readonly capture: SmtpCapture;
  readonly whatsapp: WhatsAppSimulator;
  readonly smtp: SmtpSender;
  readonly deadLetters: PromoDeadLetters & { readonly rows: DeadLetterRow[] };
  close(): Promise<void>;
}

/**
 * Migrates every table the job uses into `schema`: users/promos, action log and send-at
 * queue, schedule firings, dead letters.
 *
 * @example
 * ```ts
 * await migrateAll(db, "birthday_promo");
 * ```
 */
export async function migrateAll(
  db: PostgresPool,
  schema: string,
): Promise<void> {
  await migrateBirthdayPromo(db, schema);
  await migrateFanoutTables(db, { schema });
  await migrateScheduleTables(db, { schema });
  await migratePostgres(db, { schema });
}

/**
 * Starts the outside world on loopback (SMTP capture, WhatsApp simulator) and the stores:
 * memory by default, PostgreSQL with `postgres` (migrated). For the demo and the tests.
 *
 * @example
 * ```ts
 * const world = await startLocalWorld({ whatsappFailureRate: 0.2 });
 * await runBirthdayPromo(firing, world.deps);
 * ```
 */
export async function startLocalWorld(
  options: LocalWorldOptions = {},
): Promise<LocalWorld> {
  const capture = await startSmtpCapture({
    failure: { rate: options.smtpFailureRate ?? 0, code: 451 },
    seed: options.seed ?? 1,
  });
  const sim = await startWhatsAppSimulator({
    failureRate: options.whatsappFailureRate ?? 0,
    latencyMs: options.whatsappLatencyMs ?? 0,
    seed: options.seed ?? 1,
  });
  const smtp = smtpSender({
    host: capture.host,
    port: capture.port,
    from: "Birthday Promo <promo@example.com>",
    lookup: (messageId) => capture.lookup(messageId),
    maxConnections: 4,
  });
  const whatsapp = whatsAppClient({
    baseUrl: sim.baseUrl,
    phoneNumberId: sim.phoneNumberId,
    accessToken: sim.accessToken,
  });
  const memoryDead = memoryDeadLetters();
  let stores: Pick<PromoDeps, "users" | "promos" | "log">;
  let firings: FiringStore;
  let deadLetters = memoryDead;
  if (options.postgres === undefined) {
    const m = memoryPromoStores();
    stores = { users: m.users, promos: m.promos, log: memoryActionLog() };
    firings = memoryFiringStore();
  } else {
    const { db, schema } = options.postgres;
    await migrateAll(db, schema);
    const p = postgresPromoStores(db, schema);
    stores = {
      users: p.users,
      promos: p.promos,
      log: postgresActionLog(db, { schema }),
    };
    firings = postgresFiringStore(db, { schema });
    const pg = postgresDeadLetters(db, { schema });
    deadLetters = {
      rows: memoryDead.rows,
      async write(row) {
        await pg.write(row);
        memoryDead.rows.push(row);
      },
    };
  }
  return {
    deps: {
      ...stores,
      email: smtp,
      whatsapp,
      deadLetters,
      ...(options.scheduler !== undefined
        ? { scheduler: options.scheduler }
        : {}),
    },
    firings,
    log: stores.log,
    capture,
    whatsapp: sim,
    smtp,
    deadLetters,
    async close() {
      await smtp.close();
      await capture.close();
      await sim.close();
    },
  };
}
