import type { OutgoingRecord, Sink } from "../types.js";
import { PendingWrites } from "../internal/pending-writes.js";
import { closedError, rowError } from "./errors.js";
import { PostgresMetrics } from "./metrics.js";
import { resolvePostgresSinkOptions } from "./options.js";
import type {
  PostgresSinkOptions,
  ResolvedPostgresSinkOptions,
} from "./options.js";
import type { PostgresPool } from "./pool.js";
import { inTransaction } from "./pool.js";
import { withRetries } from "./retry.js";
import { upsertStatement } from "./sql.js";

/**
 * A {@link Sink} that upserts each batch into one table, in one transaction: multi-row
 * `INSERT … ON CONFLICT (keys) DO UPDATE`, split into statements of `maxRowsPerStatement`
 * rows. Rows of a batch with the same key collapse to the last one (the latest value), as a
 * statement may not touch a row twice. Writing a batch again leaves the table as it was, so
 * redelivery after a crash is harmless. Build it with {@link postgresSink}.
 */
export class PostgresSink<T> implements Sink<T> {
  readonly name: string;
  readonly maxInFlight: number;
  readonly metrics = new PostgresMetrics();
  private readonly o: ResolvedPostgresSinkOptions<T>;
  private readonly statements = new Map<number, string>();
  private readonly writes = new PendingWrites();
  private closed = false;

  constructor(
    private readonly db: PostgresPool,
    options: PostgresSinkOptions<T>,
  ) {
    this.o = resolvePostgresSinkOptions(options, db.options.schema);
    this.name = this.o.name;
    this.maxInFlight = this.o.maxInFlight;
  }

  /** Checks the table is reachable (one round trip); idempotent. */
  async connect(): Promise<void> {
    if (this.closed) throw closedError(this.name);
    await withRetries(
      () =>
        inTransaction(this.db.pool, `${this.name} connect`, async (c) => {
          await c.query("SELECT 1");
        }),
      this.retryOptions(`${this.name} connect`),
    );
  }

  /** Upserts the batch in one transaction; resolves once it is committed. */
  write(batch: readonly OutgoingRecord<T>[]): Promise<void> {
    if (this.closed) return Promise.reject(closedError(this.name));
    if (batch.length === 0) return Promise.resolve();
    return this.writes.track(this.writeBatch(batch));
  }

  /** Waits for writes in flight; nothing is buffered beyond them. */
  async flush(): Promise<void> {
    await this.writes.settled();
  }

  /** Idempotent: later writes reject with CLOSED; the pool belongs to the caller. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }

  private async writeBatch(batch: readonly OutgoingRecord<T>[]): Promise<void> {
    const rows = this.rowsOf(batch);
    await withRetries(
      () =>
        inTransaction(this.db.pool, `${this.name} upsert`, async (client) => {
          const step = this.o.maxRowsPerStatement;
          for (let i = 0; i < rows.length; i += step) {
            const chunk = rows.slice(i, i + step);
            await client.query(this.statement(chunk.length), chunk.flat());
          }
        }),
      this.retryOptions(`${this.name} upsert`),
    );
    this.metrics.rowsWritten += rows.length;
    this.metrics.batches += 1;
  }

  /** Row values in column order, one per key, the last record of a key winning. */
  private rowsOf(batch: readonly OutgoingRecord<T>[]): unknown[][] {
    const { columns, keyColumns, toRow } = this.o;
    const byKey = new Map<string, unknown[]>();
    for (const record of batch) {
      const row = toRow(record);
      const values = columns.map((col) => {
        if (!(col in row)) throw rowError(this.name, col, record.key);
        return row[col];
      });
      const key = JSON.stringify(keyColumns.map((col) => row[col]));
      byKey.delete(key);
      byKey.set(key, values);
    }
    return [...byKey.values()];
  }

  private statement(rows: number): string {
    let text = this.statements.get(rows);
    if (text === undefined) {
      text = upsertStatement(this.o, rows);
      if (this.statements.size < 64) this.statements.set(rows, text);
    }
    return text;
  }

  private retryOptions(what: string): Parameters<typeof withRetries>[1] {
    return {
      what,
      deadlineMs: this.db.options.outageDeadlineMs,
      maxAttempts: this.o.maxAttempts,
      backoffMs: this.o.retryBackoffMs,
      metrics: this.metrics,
    };
  }
}

/**
 * An idempotent upsert {@link Sink} into a PostgreSQL or CockroachDB table.
 *
 * @example
 * ```ts
 * const sink = postgresSink<Review>(db, {
 *   table: "reviews", columns: ["id", "movie_id", "rating"], keyColumns: ["id"],
 *   toRow: (r) => ({ id: r.value.id, movie_id: r.value.movieId, rating: r.value.rating }),
 * });
 * await sink.write([{ key: "r1", value: review }]);
 * ```
 */
export function postgresSink<T>(
  db: PostgresPool,
  options: PostgresSinkOptions<T>,
): PostgresSink<T> {
  return new PostgresSink<T>(db, options);
}
