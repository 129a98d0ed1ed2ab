import { setTimeout as delay } from "node:timers/promises";
import { PendingWrites } from "../internal/pending-writes.js";
import cassandra from "cassandra-driver";
import type { OutgoingRecord, Sink } from "../types.js";
import { toCassandraError } from "./classify.js";
import type { CassandraClient } from "./client.js";
import { quoteCqlIdent } from "./cql.js";
import { closedError, rowError } from "./errors.js";
import { CassandraMetrics } from "./metrics.js";
import { resolveCassandraSinkOptions, ttlSeconds } from "./options.js";
import type {
  CassandraSinkOptions,
  ResolvedCassandraSinkOptions,
} from "./options.js";

/**
 * A {@link Sink} that writes each record as a prepared `INSERT … USING TTL ? AND TIMESTAMP ?`
 * — an upsert in Cassandra, so a redelivered batch rewrites the same rows — with at most
 * `concurrency` writes in flight (`concurrent.executeConcurrent`). The write time is taken
 * from a per-sink monotonic clock when the batch is handed in, so the later of two rows of
 * one key (in a batch or across batches in flight) is the one that stays, whatever order
 * the concurrent inserts reach the cluster in; a retried insert keeps its write time. The statement is generated because its
 * columns come from config; every name is checked and quoted, every value is bound. Build
 * it with {@link cassandraSink}.
 */
export class CassandraSink<T> implements Sink<T> {
  readonly name: string;
  readonly maxInFlight: number;
  readonly metrics = new CassandraMetrics();
  private readonly o: ResolvedCassandraSinkOptions<T>;
  private readonly insert: string;
  private readonly writes = new PendingWrites();
  private closed = false;
  /** Last write time handed out, microseconds. */
  private lastWriteTimeMicros = 0;

  constructor(
    private readonly db: CassandraClient,
    options: CassandraSinkOptions<T>,
  ) {
    this.o = resolveCassandraSinkOptions(options, db.options.keyspace);
    this.name = this.o.name;
    this.maxInFlight = this.o.maxInFlight;
    const cols = this.o.columns.map(quoteCqlIdent);
    this.insert =
      `INSERT INTO ${quoteCqlIdent(this.o.keyspace)}.${quoteCqlIdent(this.o.table)} ` +
      `(${cols.join(", ")}) VALUES (${cols.map(() => "?").join(", ")}) USING TTL ? AND TIMESTAMP ?`;
  }

  /** Connects the shared client (idempotent). */
  async connect(): Promise<void> {
    if (this.closed) throw closedError(this.name);
    await this.db.connect();
  }

  /** Writes every record of the batch; resolves once all are acknowledged. */
  write(batch: readonly OutgoingRecord<T>[]): Promise<void> {
    if (this.closed) return Promise.reject(closedError(this.name));
    if (batch.length === 0) return Promise.resolve();
    return this.writes.track(this.writeBatch(batch));
  }

  async flush(): Promise<void> {
    await this.writes.settled();
  }

  /** Idempotent; the client belongs to the caller. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }

  /** Monotonic microseconds: the driver stamps concurrent inserts in completion order of its own async steps, not in call order. */
  private nextWriteTime(): number {
    this.lastWriteTimeMicros = Math.max(
      Date.now() * 1000,
      this.lastWriteTimeMicros + 1,
    );
    return this.lastWriteTimeMicros;
  }

  private async writeBatch(batch: readonly OutgoingRecord<T>[]): Promise<void> {
    const params = batch.map((record) => {
      const row = this.o.toRow(record);
      const values = this.o.columns.map((col) => {
        if (!(col in row)) throw rowError(this.name, col, record.key);
        return row[col];
      });
      values.push(ttlSeconds(this.o.ttlOf(record)), this.nextWriteTime());
      return values;
    });
    await this.db.connect();
    let todo = params;
    for (let attempt = 1; ; attempt++) {
      // Rows of one key keep their batch order through the explicit write times above.
      const result = await cassandra.concurrent.executeConcurrent(
        this.db.client,
        this.insert,
        todo,
        {
          concurrencyLevel: this.o.concurrency,
          raiseOnFirstError: false,
          collectResults: true,
        },
      );
      const failed = todo.filter(
        (_, i) => result.resultItems[i] instanceof Error,
      );
      this.metrics.rowsWritten += todo.length - failed.length;
      const first = result.errors[0];
      if (first === undefined) break;
      const error = toCassandraError(first, `${this.name} insert`);
      const retryable = result.errors.every(
        (e) => toCassandraError(e, "").retryable,
      );
      if (!retryable || attempt >= this.o.maxAttempts) {
        this.metrics.errors += 1;
        throw error;
      }
      this.metrics.retries += 1;
      todo = failed; // inserts are idempotent: only the failed ones go again
      await delay(100 * 2 ** (attempt - 1));
    }
    this.metrics.batches += 1;
  }
}

/**
 * An idempotent upsert {@link Sink} into a Cassandra table, with TTL and bounded concurrency.
 *
 * @example
 * ```ts
 * const sink = cassandraSink<Review>(db, {
 *   table: "reviews_by_movie", columns: ["movie_id", "review_id", "rating"],
 *   toRow: (r) => ({ movie_id: r.value.movieId, review_id: r.value.id, rating: r.value.rating }),
 *   ttlMs: 30 * 86_400_000,
 * });
 * ```
 */
export function cassandraSink<T>(
  db: CassandraClient,
  options: CassandraSinkOptions<T>,
): CassandraSink<T> {
  return new CassandraSink<T>(db, options);
}
