import pg from "pg";
import { toPostgresError } from "./classify.js";
import { resolvePostgresOptions } from "./options.js";
import type { PostgresOptions, ResolvedPostgresOptions } from "./options.js";

/** A `pg.Pool` with the options it was made from (connection string included: keep it private). */
export interface PostgresPool {
  readonly pool: pg.Pool;
  readonly options: ResolvedPostgresOptions;
  /** Ends the pool; idempotent. */
  end(): Promise<void>;
}

/**
 * Creates the connection pool every PostgreSQL piece of Sluice shares. Idle-client errors
 * (a server restart) are swallowed by the pool's `error` listener and counted, not thrown.
 *
 * @example
 * ```ts
 * const db = createPostgresPool({ connectionString: process.env.DATABASE_URL!, schema: "sluice" });
 * await migratePostgres(db);
 * ```
 */
export function createPostgresPool(options: PostgresOptions): PostgresPool {
  const o = resolvePostgresOptions(options);
  const pool = new pg.Pool({
    connectionString: o.connectionString,
    max: o.poolMax,
    idleTimeoutMillis: o.idleTimeoutMs,
    connectionTimeoutMillis: o.connectionTimeoutMs,
    statement_timeout: o.statementTimeoutMs,
    application_name: o.applicationName,
  });
  // An idle client's error (the server restarted) reaches the pool: the pool drops that
  // client and the next query opens a new connection; never an uncaught exception.
  pool.on("error", () => undefined);
  let ended: Promise<void> | undefined;
  return {
    pool,
    options: o,
    end: () => (ended ??= pool.end()),
  };
}

/**
 * Runs `fn` in one transaction on one pooled client: COMMIT when it resolves, ROLLBACK
 * when it throws (the error is rethrown as a classified SluiceError).
 *
 * @example
 * ```ts
 * await inTransaction(db.pool, "save checkpoint", async (tx) => { await tx.query(a); await tx.query(b); });
 * ```
 */
export async function inTransaction<R>(
  pool: pg.Pool,
  what: string,
  fn: (client: pg.PoolClient) => Promise<R>,
): Promise<R> {
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (error) {
    throw toPostgresError(error, what);
  }
  let broken = false;
  // While checked out the pool no longer listens to the client: a server that terminates
  // the connection between two queries (57P01 on a restart) would throw from an 'error'
  // event with no listener, an uncaught exception that ends the process.
  const onError = (): void => {
    broken = true;
  };
  client.on("error", onError);
  try {
    await client.query("BEGIN");
    const result = await fn(client);
    await client.query("COMMIT");
    return result;
  } catch (error) {
    try {
      await client.query("ROLLBACK");
    } catch {
      broken = true; // the connection is gone; do not return it to the pool
    }
    throw toPostgresError(error, what);
  } finally {
    client.off("error", onError);
    client.release(broken);
  }
}
