import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SluiceError } from "../../operators/sluice-error.js";
import { requireServices } from "../../stack/index.js";
import { CheckpointFencedError } from "../checkpoint-store.js";
import {
  checkpointFixtures,
  expectCheckpointFencing,
} from "../testing/checkpoints.js";
import { sinkConformance } from "../testing/sink-conformance.js";
import { postgresCheckpointStore } from "./checkpoint-store.js";
import { postgresDeadLetters } from "./dead-letters.js";
import { migratePostgres } from "./migrate.js";
import { createPostgresPool } from "./pool.js";
import type { PostgresPool } from "./pool.js";
import { postgresSink } from "./sink.js";

// One schema per run of this file, dropped in afterAll.
const schema = `sluice_it_${randomBytes(4).toString("hex")}`;
let db: PostgresPool | undefined;
let n = 0;

beforeAll(async () => {
  const env = await requireServices(["postgres"]);
  db = createPostgresPool({
    connectionString: env.databaseUrl,
    schema,
    poolMax: 4,
  });
  await db.pool.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
});

afterAll(async () => {
  if (db === undefined) return;
  try {
    await db.pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await db.end();
  }
});

const pool = (): PostgresPool => {
  if (db === undefined) throw new Error("pool not created in beforeAll");
  return db;
};

async function createTable(ddl: (table: string) => string): Promise<string> {
  const table = `t${++n}`;
  await pool().pool.query(ddl(`"${schema}"."${table}"`));
  return table;
}

sinkConformance("postgres", async () => {
  // Keyed by (k, v): every record is its own row, so N in reads back N.
  const table = await createTable(
    (t) =>
      `CREATE TABLE ${t} (k text NOT NULL, v text NOT NULL, PRIMARY KEY (k, v))`,
  );
  return {
    topic: table,
    createSink: () =>
      Promise.resolve(
        postgresSink<string>(pool(), {
          table,
          columns: ["k", "v"],
          keyColumns: ["k", "v"],
          toRow: (r) => ({ k: r.key ?? "", v: r.value }),
        }),
      ),
    readBack: async () => {
      const r = await pool().pool.query<{ k: string; v: string }>(
        `SELECT k, v FROM "${schema}"."${table}"`,
      );
      // A table has no order of its own: per key, by the sequence number in the value.
      const seq = (v: string): number =>
        Number(v.slice(v.lastIndexOf(":") + 1));
      return r.rows
        .map((row) => ({ key: row.k, value: row.v }))
        .sort(
          (a, b) => a.key.localeCompare(b.key) || seq(a.value) - seq(b.value),
        );
    },
    cleanup: async () => {
      await pool().pool.query(`DROP TABLE IF EXISTS "${schema}"."${table}"`);
    },
  };
});

describe("postgresSink upserts", () => {
  it("leaves one row per key with the latest value when the same batch is written twice", async () => {
    const table = await createTable(
      (t) =>
        `CREATE TABLE ${t} (id text PRIMARY KEY, v text NOT NULL, ver bigint NOT NULL)`,
    );
    const sink = postgresSink<{ v: string; ver: number }>(pool(), {
      table,
      columns: ["id", "v", "ver"],
      keyColumns: ["id"],
      versionColumn: "ver",
      maxRowsPerStatement: 3,
      toRow: (r) => ({ id: r.key, v: r.value.v, ver: r.value.ver }),
    });
    await sink.connect();
    const batch = Array.from({ length: 20 }, (_, i) => ({
      key: `k${i % 5}`,
      value: { v: `v${i}`, ver: i },
    }));
    await sink.write(batch);
    await sink.write(batch);
    // A late, older write of one key does not win over the newer version.
    await sink.write([{ key: "k0", value: { v: "stale", ver: 1 } }]);
    await sink.close();
    const rows = await pool().pool.query<{ id: string; v: string }>(
      `SELECT id, v FROM "${schema}"."${table}" ORDER BY id`,
    );
    expect(rows.rows).toEqual([
      { id: "k0", v: "v15" },
      { id: "k1", v: "v16" },
      { id: "k2", v: "v17" },
      { id: "k3", v: "v18" },
      { id: "k4", v: "v19" },
    ]);
    expect(sink.metrics.rowsWritten).toBe(11);
    expect(sink.metrics.batches).toBe(3);
  });

  it("rejects a batch with a missing column as VALIDATE and writes none of it", async () => {
    const table = await createTable(
      (t) => `CREATE TABLE ${t} (id text PRIMARY KEY, v text)`,
    );
    const sink = postgresSink<string>(pool(), {
      table,
      columns: ["id", "v"],
      keyColumns: ["id"],
      toRow: (r) =>
        r.value === "bad" ? { id: r.key } : { id: r.key, v: r.value },
    });
    const error = await sink
      .write([
        { key: "a", value: "ok" },
        { key: "b", value: "bad" },
      ])
      .catch((e: unknown) => e);
    expect((error as SluiceError).code).toBe("VALIDATE");
    const count = await pool().pool.query(
      `SELECT 1 FROM "${schema}"."${table}"`,
    );
    expect(count.rowCount).toBe(0);
  });

  it("classifies a write to a missing table as a non-retryable NOT_FOUND", async () => {
    const sink = postgresSink<string>(pool(), {
      table: "no_such_table",
      columns: ["id"],
      keyColumns: ["id"],
      toRow: (r) => ({ id: r.key }),
    });
    const error = await sink
      .write([{ key: "a", value: "x" }])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SluiceError);
    expect((error as SluiceError).code).toBe("NOT_FOUND");
    expect((error as SluiceError).retryable).toBe(false);
    expect(sink.metrics.errors).toBe(1);
  });
});

describe("migratePostgres", () => {
  it("applies every migration once and does nothing the second time", async () => {
    const first = await migratePostgres(pool());
    expect(first.applied).toEqual([1, 2, 3]);
    const second = await migratePostgres(pool());
    expect(second).toEqual({ applied: [], version: 3 });
    const tables = await pool().pool.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name`,
      [schema],
    );
    expect(tables.rows.map((r) => r.table_name)).toEqual(
      expect.arrayContaining([
        "checkpoint_owners",
        "checkpoints",
        "dead_letters",
        "sluice_migrations",
      ]),
    );
  });
});

describe("migratePostgres racing", () => {
  it("lets six runners migrate one new schema at once: each ends at the latest version, every migration applied once", async () => {
    // Every job of a pipeline migrates on start; PostgreSQL's CREATE SCHEMA/TABLE IF NOT
    // EXISTS fail with 23505 for the loser of a concurrent creation (an outreach CI run died
    // of it). Separate pools, so the runners really are separate sessions.
    const raced = `${schema}_race`;
    const env = await requireServices(["postgres"]);
    const pools = Array.from({ length: 6 }, () =>
      createPostgresPool({
        connectionString: env.databaseUrl,
        schema: raced,
        poolMax: 1,
      }),
    );
    try {
      const results = await Promise.all(pools.map((p) => migratePostgres(p)));
      expect(results.map((r) => r.version)).toEqual([3, 3, 3, 3, 3, 3]);
      expect(results.flatMap((r) => r.applied).sort()).toEqual([1, 2, 3]);
    } finally {
      await pool().pool.query(`DROP SCHEMA IF EXISTS "${raced}" CASCADE`);
      await Promise.all(pools.map((p) => p.end()));
    }
  });
});

const { state, offsets, piece } = checkpointFixtures(
  { maps: {}, timers: { event: [["user-1", 1_000]], processing: [] } },
  (committed) => [[committed + 2, committed + 4]],
);

describe("postgresCheckpointStore", () => {
  beforeAll(async () => {
    await migratePostgres(pool());
  });

  it("round-trips the state and offsets of each partition", async () => {
    const store = postgresCheckpointStore(pool());
    expect(await store.loadCheckpoint("job-rt", "orders", 0)).toBeUndefined();
    await store.saveCheckpoint("job-rt", [
      piece("orders", 0, 1, 10),
      piece("orders", 1, 2, 20),
    ]);
    await store.saveCheckpoint("job-rt", [piece("orders", 0, 3, 30)]);
    const p0 = await store.loadCheckpoint("job-rt", "orders", 0);
    const p1 = await store.loadCheckpoint("job-rt", "orders", 1);
    expect(p0).toMatchObject({
      topic: "orders",
      partition: 0,
      state: state(3),
      offsets: offsets("orders", 0, 30),
    });
    expect(p1).toMatchObject({
      state: state(2),
      offsets: offsets("orders", 1, 20),
    });
    expect(p0?.updatedAt).toBeInstanceOf(Date);
    expect(
      await store.loadCheckpoint("other-job", "orders", 0),
    ).toBeUndefined();
  });

  it("keeps the previous checkpoint of every partition when a save fails mid-transaction", async () => {
    const store = postgresCheckpointStore(pool());
    await store.saveCheckpoint("job-atomic", [
      piece("t", 0, 1, 5),
      piece("t", 1, 1, 5),
    ]);
    // The first upsert runs, the second fails in the server (integer out of range, 22003).
    const error = await store
      .saveCheckpoint("job-atomic", [
        piece("t", 0, 9, 99),
        {
          topic: "t",
          partition: 2 ** 40,
          state: state(9),
          offsets: offsets("t", 1, 99),
        },
      ])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SluiceError);
    expect((error as SluiceError).code).toBe("VALIDATE");
    const p0 = await store.loadCheckpoint("job-atomic", "t", 0);
    expect(p0).toMatchObject({ state: state(1), offsets: offsets("t", 0, 5) });
    expect(store.metrics.errors).toBe(1);
  });

  it("fences a previous owner: its saves are refused once another instance claimed the partition", async () => {
    await expectCheckpointFencing(postgresCheckpointStore(pool()), piece);
  });

  it("writes nothing of a save when one of its pieces is fenced (one transaction)", async () => {
    const store = postgresCheckpointStore(pool());
    const e0 = await store.claimCheckpoint("job-fence-tx", "t", 0);
    const e1 = await store.claimCheckpoint("job-fence-tx", "t", 1);
    await store.claimCheckpoint("job-fence-tx", "t", 1);
    const error = await store
      .saveCheckpoint("job-fence-tx", [
        { ...piece("t", 0, 1, 10), epoch: e0 },
        { ...piece("t", 1, 1, 10), epoch: e1 },
      ])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CheckpointFencedError);
    expect(await store.loadCheckpoint("job-fence-tx", "t", 0)).toBeUndefined();
  });
});

describe("postgresDeadLetters", () => {
  it("keeps one row when the same dead letter is written twice", async () => {
    await migratePostgres(pool());
    const dl = postgresDeadLetters(pool());
    const row = {
      job: "job-dl",
      topic: "reviews",
      partition: 0,
      offset: 42,
      key: "r1",
      stage: "decode" as const,
      code: "DECODE" as const,
      reason: "bad magic byte",
      payload: new Uint8Array([1, 2, 3]),
    };
    await dl.write(row);
    await dl.write(row);
    const r = await pool().pool.query<{ reason: string; payload: Buffer }>(
      `SELECT reason, payload FROM "${schema}".dead_letters WHERE job = $1`,
      ["job-dl"],
    );
    expect(r.rows).toHaveLength(1);
    expect(r.rows[0]?.reason).toBe("bad magic byte");
    expect([...(r.rows[0]?.payload ?? [])]).toEqual([1, 2, 3]);
  });
});
