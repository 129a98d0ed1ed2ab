import { randomUUID } from "node:crypto";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import cassandra from "cassandra-driver";
import { from as copyFrom } from "pg-copy-streams";
import { from, lastValueFrom, reduce } from "rxjs";
import {
  cassandraSink,
  createCassandraClient,
} from "../connectors/cassandra/index.js";
import type { CassandraClient } from "../connectors/cassandra/index.js";
import {
  createPostgresPool,
  postgresSink,
} from "../connectors/postgres/index.js";
import type { PostgresPool } from "../connectors/postgres/index.js";
import type { OutgoingRecord, Sink } from "../connectors/types.js";
import { writeTo } from "../connectors/write-to.js";
import { record } from "../operators/record.js";
import type { Record } from "../operators/record.js";
import type { RunTiming, Suite, Workload } from "./harness.js";

/** One row of the sink benchmarks (about 250 bytes, like the Kafka values). */
export interface BenchRow {
  readonly id: string;
  readonly seq: number;
  readonly amount: number;
  readonly payload: string;
  readonly updatedAt: number;
}

const COLUMNS = ["id", "seq", "amount", "payload", "updated_at"] as const;

export function benchRows(rows: number): BenchRow[] {
  return Array.from({ length: rows }, (_, i) => ({
    id: `row-${String(i).padStart(10, "0")}`,
    seq: i,
    amount: i % 10_000,
    payload: "p".repeat(200),
    updatedAt: 1_700_000_000_000 + i,
  }));
}

const toRow = (r: OutgoingRecord<BenchRow>): { [c: string]: unknown } => ({
  id: r.value.id,
  seq: r.value.seq,
  amount: r.value.amount,
  payload: r.value.payload,
  updated_at: r.value.updatedAt,
});

/** records → writeTo(sink): fails unless every record was written. */
async function viaWriteTo<T>(
  records: readonly Record<T>[],
  sink: Sink<T>,
  maxBatch: number,
): Promise<void> {
  const written = await lastValueFrom(
    from(records).pipe(
      writeTo(sink, { maxBatch, maxWaitMs: 5 }),
      reduce((n, w) => {
        if (!w.ok) throw w.error;
        return n + w.count;
      }, 0),
    ),
  );
  if (written !== records.length)
    throw new Error(`wrote ${written} of ${records.length} rows`);
}

const seconds = (t0: bigint): RunTiming => ({
  seconds: Number(process.hrtime.bigint() - t0) / 1e9,
});

/** Escapes a value for COPY's text format. */
const copyText = (v: string | number): string =>
  String(v).replace(/[\\\t\n\r]/g, (c) =>
    c === "\t" ? "\\t" : c === "\n" ? "\\n" : c === "\r" ? "\\r" : "\\\\",
  );

/** Options of the database sink suites. */
export interface DbBenchOptions {
  readonly databaseUrl: string;
  readonly cassandraContactPoints: readonly string[];
  readonly cassandraLocalDc: string;
  /** Rows per run. */
  readonly rows: number;
  /** Records per `sink.write` (writeTo's maxBatch) for the small-batch workloads. */
  readonly batch: number;
  /** Records per `sink.write` for the large-batch workload. */
  readonly largeBatch: number;
}

/**
 * PostgreSQL: each run empties its table (untimed) and writes every row. Baseline: one
 * `COPY … FROM STDIN` (pg-copy-streams); beside it a plain `pg` loop of multi-row upserts and
 * Sluice's `postgresSink` behind `writeTo`, with small and large batches.
 */
export function postgresSuite(o: DbBenchOptions): Suite {
  const rows = benchRows(o.rows);
  const records = rows.map((v) =>
    record({ key: v.id, value: v, timestamp: v.updatedAt }),
  );
  const schema = `bench_${randomUUID().slice(0, 8)}`;
  let db: PostgresPool | undefined;
  const pool = (): PostgresPool => {
    db ??= createPostgresPool({
      connectionString: o.databaseUrl,
      schema,
      poolMax: 8,
    });
    return db;
  };
  const table = (name: string): string => `${schema}.${name}`;
  const truncate = async (name: string): Promise<void> => {
    await pool().pool.query(`TRUNCATE ${table(name)}`);
  };

  const copy: Workload = {
    name: "COPY FROM STDIN (pg-copy-streams)",
    records: o.rows,
    note: "one COPY of every row in text format on one connection; no conflict handling",
    run: async () => {
      await truncate("t_copy");
      const client = await pool().pool.connect();
      try {
        const t0 = process.hrtime.bigint();
        const stream = client.query(
          copyFrom(
            `COPY ${table("t_copy")} (${COLUMNS.join(", ")}) FROM STDIN`,
          ),
        );
        const lines = function* (): Generator<string> {
          for (let i = 0; i < rows.length; i += 500) {
            let chunk = "";
            for (const r of rows.slice(i, i + 500))
              chunk += `${copyText(r.id)}\t${r.seq}\t${r.amount}\t${copyText(r.payload)}\t${r.updatedAt}\n`;
            yield chunk;
          }
        };
        await pipeline(Readable.from(lines()), stream);
        return seconds(t0);
      } finally {
        client.release();
      }
    },
  };

  const upsertSql = (n: number, name: string): string => {
    const values = Array.from(
      { length: n },
      (_, i) =>
        `(${COLUMNS.map((_, c) => `$${i * COLUMNS.length + c + 1}`).join(", ")})`,
    );
    return (
      `INSERT INTO ${table(name)} (${COLUMNS.join(", ")}) VALUES ${values.join(", ")} ` +
      `ON CONFLICT (id) DO UPDATE SET ${COLUMNS.slice(1)
        .map((c) => `${c} = EXCLUDED.${c}`)
        .join(", ")}`
    );
  };

  const plainLoop: Workload = {
    name: `pg multi-row upsert loop (bare, ${o.batch}/statement)`,
    records: o.rows,
    note: `one connection, one INSERT … ON CONFLICT DO UPDATE of ${o.batch} rows after another (autocommit); no Sluice`,
    run: async () => {
      await truncate("t_loop");
      const client = await pool().pool.connect();
      try {
        const t0 = process.hrtime.bigint();
        for (let i = 0; i < rows.length; i += o.batch) {
          const chunk = rows.slice(i, i + o.batch);
          await client.query(
            upsertSql(chunk.length, "t_loop"),
            chunk.flatMap((r) => [
              r.id,
              r.seq,
              r.amount,
              r.payload,
              r.updatedAt,
            ]),
          );
        }
        return seconds(t0);
      } finally {
        client.release();
      }
    },
  };

  const sluice = (name: string, maxBatch: number): Workload => ({
    name: `sluice postgresSink (batch ${maxBatch})`,
    records: o.rows,
    note: `records → writeTo(postgresSink, maxBatch ${maxBatch}): one transaction per batch, upserts of ≤ 500 rows, 4 batches in flight`,
    run: async () => {
      await truncate(name);
      const sink = postgresSink<BenchRow>(pool(), {
        table: name,
        columns: COLUMNS,
        keyColumns: ["id"],
        toRow,
      });
      await sink.connect();
      const t0 = process.hrtime.bigint();
      await viaWriteTo(records, sink, maxBatch);
      const timing = seconds(t0);
      await sink.close();
      return timing;
    },
  });

  return {
    name: "connectors-postgres",
    baseline: copy.name,
    workloads: [
      copy,
      plainLoop,
      sluice("t_sink_small", o.batch),
      sluice("t_sink_large", o.largeBatch),
    ],
    goals: [
      {
        workload: `sluice postgresSink (batch ${o.largeBatch})`,
        minRatio: 0.8,
      },
      { workload: `sluice postgresSink (batch ${o.batch})`, minRatio: 0.8 },
    ],
    setup: async () => {
      const p = pool().pool;
      await p.query(`CREATE SCHEMA ${schema}`);
      for (const name of ["t_copy", "t_loop", "t_sink_small", "t_sink_large"])
        await p.query(
          `CREATE TABLE ${table(name)} (id text PRIMARY KEY, seq bigint NOT NULL, amount integer NOT NULL, payload text NOT NULL, updated_at bigint NOT NULL)`,
        );
    },
    teardown: async () => {
      if (db === undefined) return;
      try {
        await db.pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await db.end();
        db = undefined;
      }
    },
  };
}

/**
 * Cassandra: each run upserts every row (the same rows each run: an upsert costs the same
 * whether the row exists). Baseline: the driver's own `executeConcurrent` over all rows with
 * 64 requests in flight; beside it Sluice's `cassandraSink` behind `writeTo` (2 batches in
 * flight × 32 writes each, so 64 at most too).
 */
export function cassandraSuite(o: DbBenchOptions): Suite {
  const rows = benchRows(o.rows);
  const records = rows.map((v) =>
    record({ key: v.id, value: v, timestamp: v.updatedAt }),
  );
  const keyspace = `bench_${randomUUID().slice(0, 8)}`;
  let db: CassandraClient | undefined;
  const client = (): CassandraClient => {
    db ??= createCassandraClient({
      contactPoints: o.cassandraContactPoints,
      localDataCenter: o.cassandraLocalDc,
      keyspace,
    });
    return db;
  };

  const plain: Workload = {
    name: "driver executeConcurrent (bare)",
    records: o.rows,
    note: "cassandra-driver concurrent.executeConcurrent of one prepared INSERT over every row, 64 in flight; no Sluice",
    run: async () => {
      const c = client();
      await c.connect();
      const t0 = process.hrtime.bigint();
      await cassandra.concurrent.executeConcurrent(
        c.client,
        `INSERT INTO ${keyspace}.t_plain (${COLUMNS.join(", ")}) VALUES (?, ?, ?, ?, ?)`,
        rows.map((r) => [
          r.id,
          cassandra.types.Long.fromNumber(r.seq),
          r.amount,
          r.payload,
          cassandra.types.Long.fromNumber(r.updatedAt),
        ]),
        { concurrencyLevel: 64, raiseOnFirstError: true },
      );
      return seconds(t0);
    },
  };

  const sluice: Workload = {
    name: `sluice cassandraSink (batch ${o.batch})`,
    records: o.rows,
    note: `records → writeTo(cassandraSink, maxBatch ${o.batch}): prepared INSERT … USING TTL, 32 concurrent per batch, 2 batches in flight`,
    run: async () => {
      const sink = cassandraSink<BenchRow>(client(), {
        table: "t_sink",
        columns: COLUMNS,
        toRow: (r) => ({
          ...toRow(r),
          seq: cassandra.types.Long.fromNumber(r.value.seq),
          updated_at: cassandra.types.Long.fromNumber(r.value.updatedAt),
        }),
      });
      await sink.connect();
      const t0 = process.hrtime.bigint();
      await viaWriteTo(records, sink, o.batch);
      const timing = seconds(t0);
      await sink.close();
      return timing;
    },
  };

  return {
    name: "connectors-cassandra",
    baseline: plain.name,
    workloads: [plain, sluice],
    goals: [{ workload: sluice.name, minRatio: 0.8 }],
    setup: async () => {
      const c = client();
      await c.connect();
      await c.client.execute(
        `CREATE KEYSPACE IF NOT EXISTS ${keyspace} WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}`,
      );
      for (const name of ["t_plain", "t_sink"])
        await c.client.execute(
          `CREATE TABLE IF NOT EXISTS ${keyspace}.${name} (id text PRIMARY KEY, seq bigint, amount int, payload text, updated_at bigint)`,
        );
    },
    teardown: async () => {
      if (db === undefined) return;
      try {
        await db.client.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`);
      } finally {
        await db.close();
        db = undefined;
      }
    },
  };
}
