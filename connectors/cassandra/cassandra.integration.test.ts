import { randomBytes } from "node:crypto";
import { firstValueFrom } from "rxjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DedupeStore } from "../../operators/dedupe.js";
import { SluiceError } from "../../operators/sluice-error.js";
import { requireServices } from "../../stack/index.js";
import {
  checkpointFixtures,
  expectCheckpointFencing,
} from "../testing/checkpoints.js";
import { waitFor } from "../testing/helpers.js";
import { sinkConformance } from "../testing/sink-conformance.js";
import { cassandraCheckpointStore } from "./checkpoint-store.js";
import { applyCassandraSchema, createCassandraClient } from "./client.js";
import type { CassandraClient } from "./client.js";
import { cassandraDedupeStore } from "./dedupe-store.js";
import { cassandraSink } from "./sink.js";

// One keyspace per run of this file, dropped in afterAll.
const keyspace = `sluice_it_${randomBytes(4).toString("hex")}`;
let db: CassandraClient | undefined;
let n = 0;

beforeAll(async () => {
  const env = await requireServices(["cassandra"]);
  db = createCassandraClient({
    contactPoints: [...env.cassandraContactPoints],
    localDataCenter: env.cassandraLocalDc,
    keyspace,
  });
  await applyCassandraSchema(db);
});

afterAll(async () => {
  if (db === undefined) return;
  try {
    await db.client.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`);
  } finally {
    await db.close();
  }
});

/** Polls `read` every 100 ms until `ok` holds (or 15 s pass) and returns the last value. */
async function until<V>(
  read: () => Promise<V>,
  ok: (v: V) => boolean,
): Promise<V> {
  const deadline = Date.now() + 15_000;
  let v = await read();
  while (!ok(v) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    v = await read();
  }
  return v;
}

const client = (): CassandraClient => {
  if (db === undefined) throw new Error("client not created in beforeAll");
  return db;
};
async function createTable(columns: string): Promise<string> {
  const table = `t${++n}`;
  await client().client.execute(
    `CREATE TABLE ${keyspace}.${table} (${columns})`,
  );
  return table;
}

describe("applyCassandraSchema", () => {
  it("can run again without changing anything", async () => {
    await applyCassandraSchema(client());
    const tables = await client().client.execute(
      "SELECT table_name FROM system_schema.tables WHERE keyspace_name = ?",
      [keyspace],
    );
    expect(tables.rows.map((r) => r.get("table_name") as string)).toEqual(
      expect.arrayContaining(["checkpoints", "dedupe"]),
    );
  });
});

sinkConformance("cassandra", async () => {
  // Partition by key, clustered by sequence: every record is a row, per-key order readable.
  const table = await createTable(
    "k text, seq int, v text, PRIMARY KEY (k, seq)",
  );
  return {
    topic: table,
    createSink: () =>
      Promise.resolve(
        cassandraSink<string>(client(), {
          table,
          columns: ["k", "seq", "v"],
          concurrency: 8,
          toRow: (r) => ({
            k: r.key ?? "",
            seq: Number(r.value.slice(r.value.lastIndexOf(":") + 1)),
            v: r.value,
          }),
        }),
      ),
    readBack: async (expected) => {
      const read = async () =>
        (
          await client().client.execute(`SELECT k, v FROM ${keyspace}.${table}`)
        ).rows.map((r) => ({
          key: r.get("k") as string,
          value: r.get("v") as string,
        }));
      return until(read, (rows) => rows.length >= expected);
    },
    cleanup: async () => {
      await client().client.execute(
        `DROP TABLE IF EXISTS ${keyspace}.${table}`,
      );
    },
  };
});

describe("cassandraSink", () => {
  it("upserts: the same batch twice leaves one row per key with the latest value", async () => {
    const table = await createTable("id text PRIMARY KEY, v text");
    const sink = cassandraSink<string>(client(), {
      table,
      columns: ["id", "v"],
      toRow: (r) => ({ id: r.key, v: r.value }),
    });
    await sink.connect();
    const batch = Array.from({ length: 12 }, (_, i) => ({
      key: `k${i % 3}`,
      value: `v${i}`,
    }));
    await sink.write(batch);
    await sink.write(batch);
    await sink.close();
    const rows = await client().client.execute(
      `SELECT id, v FROM ${keyspace}.${table}`,
    );
    const byId = Object.fromEntries(
      rows.rows.map((r) => [r.get("id") as string, r.get("v") as string]),
    );
    expect(byId).toEqual({ k0: "v9", k1: "v10", k2: "v11" });
    expect(sink.metrics.rowsWritten).toBe(24);
  });

  it("keeps the last row of each key when its inserts run concurrently, within a batch and across batches in flight", async () => {
    const table = await createTable("id text PRIMARY KEY, v int");
    const sink = cassandraSink<number>(client(), {
      table,
      columns: ["id", "v"],
      toRow: (r) => ({ id: r.key, v: r.value }),
    });
    const keys = 4;
    const batches = Array.from({ length: 4 }, (_, b) =>
      Array.from({ length: 100 }, (_, i) => ({
        key: `k${i % keys}`,
        value: b * 100 + i,
      })),
    );
    // A fresh table: the first inserts also wait for the statement's preparation.
    await Promise.all(batches.map((batch) => sink.write(batch)));
    await sink.close();
    const rows = await client().client.execute(
      `SELECT id, v FROM ${keyspace}.${table}`,
    );
    const byId = Object.fromEntries(
      rows.rows.map((r) => [r.get("id") as string, r.get("v") as number]),
    );
    expect(byId).toEqual({ k0: 396, k1: 397, k2: 398, k3: 399 });
  });

  it("writes with a TTL, and the rows expire", async () => {
    const table = await createTable("id text PRIMARY KEY, v text");
    const sink = cassandraSink<string>(client(), {
      table,
      columns: ["id", "v"],
      ttlMs: 2_000,
      ttlOf: (r) => (r.key === "long" ? 600_000 : 2_000),
      toRow: (r) => ({ id: r.key, v: r.value }),
    });
    await sink.write([
      { key: "short", value: "a" },
      { key: "long", value: "b" },
    ]);
    const ttl = async (id: string): Promise<number | undefined> => {
      const r = await client().client.execute(
        `SELECT TTL(v) AS t FROM ${keyspace}.${table} WHERE id = ?`,
        [id],
      );
      return r.first()?.get("t") as number | undefined;
    };
    expect(await ttl("short")).toBeLessThanOrEqual(2);
    expect(await ttl("long")).toBeGreaterThan(500);
    expect(
      await until(
        () => ttl("short"),
        (t) => t === undefined,
      ),
    ).toBeUndefined();
    expect(await ttl("long")).toBeGreaterThan(500);
  });

  it("fails a batch whose row misses a column with VALIDATE", async () => {
    const table = await createTable("id text PRIMARY KEY, v text");
    const sink = cassandraSink<string>(client(), {
      table,
      columns: ["id", "v"],
      toRow: (r) => ({ id: r.key }),
    });
    const error = await sink
      .write([{ key: "a", value: "x" }])
      .catch((e: unknown) => e);
    expect((error as SluiceError).code).toBe("VALIDATE");
  });

  it("classifies a write to a missing table as a non-retryable error and counts it", async () => {
    const sink = cassandraSink<string>(client(), {
      table: "no_such_table",
      columns: ["id"],
      toRow: (r) => ({ id: r.key }),
    });
    const error = await sink
      .write([{ key: "a", value: "x" }])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SluiceError);
    expect((error as SluiceError).retryable).toBe(false);
    expect(sink.metrics.errors).toBe(1);
  });
});

describe("cassandraDedupeStore", () => {
  const claim = (s: DedupeStore, id: string, ttlMs = 60_000) =>
    firstValueFrom(s.claim(id, ttlMs));
  const confirm = (s: DedupeStore, id: string) =>
    firstValueFrom(s.confirm(id, 60_000), { defaultValue: undefined });
  const release = (s: DedupeStore, id: string) =>
    firstValueFrom(s.release(id), { defaultValue: undefined });

  it("answers a second claim with exists", async () => {
    const s = cassandraDedupeStore(client());
    expect(await claim(s, "a")).toBe("claimed");
    expect(await claim(s, "a")).toBe("exists");
    expect(await claim(cassandraDedupeStore(client()), "a")).toBe("exists");
  });

  it("answers confirmed after a confirm, and a release does not undo it", async () => {
    const s = cassandraDedupeStore(client());
    await claim(s, "b");
    await confirm(s, "b");
    expect(await claim(s, "b")).toBe("confirmed");
    await release(s, "b");
    expect(await claim(s, "b")).toBe("confirmed");
  });

  it("makes a released id claimable again", async () => {
    const s = cassandraDedupeStore(client());
    await claim(s, "c");
    await release(s, "c");
    expect(await claim(s, "c")).toBe("claimed");
  });

  it("frees a claim when its TTL runs out", async () => {
    const s = cassandraDedupeStore(client());
    expect(await claim(s, "d", 1_000)).toBe("claimed");
    expect(
      await until(
        () => claim(s, "d"),
        (r) => r === "claimed",
      ),
    ).toBe("claimed");
  });

  it("does not release a claim another worker took after ours expired", async () => {
    const a = cassandraDedupeStore(client());
    const b = cassandraDedupeStore(client());
    expect(await claim(a, "e", 1_000)).toBe("claimed");
    expect(
      await until(
        () => claim(b, "e"),
        (r) => r === "claimed",
      ),
    ).toBe("claimed");
    await release(a, "e");
    expect(await claim(b, "e")).toBe("exists");
    expect(a.metrics.errors).toBe(0);
  });
});

const { state, offsets, piece } = checkpointFixtures(
  {
    maps: { seen: [["user-1", [["m", true, 5]]]] },
    timers: { event: [], processing: [["user-1", 7]] },
  },
  () => [],
);

describe("cassandraCheckpointStore", () => {
  it("round-trips the state and offsets of each partition", async () => {
    const store = cassandraCheckpointStore(client());
    expect(await store.loadCheckpoint("job", "orders", 0)).toBeUndefined();
    await store.saveCheckpoint("job", [
      piece("orders", 0, 1, 10),
      piece("orders", 1, 2, 20),
    ]);
    await store.saveCheckpoint("job", [piece("orders", 0, 3, 30)]);
    expect(await store.loadCheckpoint("job", "orders", 0)).toMatchObject({
      state: state(3),
      offsets: offsets("orders", 0, 30),
    });
    const p1 = await store.loadCheckpoint("job", "orders", 1);
    expect(p1).toMatchObject({
      partition: 1,
      state: state(2),
      offsets: offsets("orders", 1, 20),
    });
    expect(p1?.updatedAt).toBeInstanceOf(Date);
  });

  it("writes nothing of a save whose batch fails, keeping the previous checkpoint", async () => {
    const store = cassandraCheckpointStore(client());
    await store.saveCheckpoint("job-atomic", [piece("t", 0, 1, 5)]);
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
    expect(await store.loadCheckpoint("job-atomic", "t", 0)).toMatchObject({
      state: state(1),
      offsets: offsets("t", 0, 5),
    });
    await waitFor(
      () => store.metrics.errors === 1,
      1_000,
      "the failed save counted",
    );
  });

  it("fences a previous owner: its saves are refused once another instance claimed the partition", async () => {
    await expectCheckpointFencing(cassandraCheckpointStore(client()), piece);
  });

  it("adds the epoch column to a checkpoints table made before fencing", async () => {
    const db = client();
    const ks = db.options.keyspace;
    await db.client.execute(`DROP TABLE IF EXISTS ${ks}.checkpoints`);
    await db.client.execute(
      `CREATE TABLE ${ks}.checkpoints (job text, topic text, partition int, state text, offsets text, updated_at timestamp, PRIMARY KEY ((job, topic, partition)))`,
    );
    await applyCassandraSchema(db);
    await applyCassandraSchema(db);
    await expectCheckpointFencing(cassandraCheckpointStore(db), piece);
  });
});
