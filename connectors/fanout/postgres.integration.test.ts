import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requireServices } from "../../stack/index.js";
import { createPostgresPool, type PostgresPool } from "../postgres/pool.js";
import {
  migrateScheduleTables,
  postgresFiringStore,
} from "../schedule/postgres-store.js";
import {
  migrateFanoutTables,
  postgresActionLog,
  postgresSendAtQueue,
} from "./postgres.js";
import {
  actionLogConformance,
  firingStoreConformance,
  sendAtQueueConformance,
} from "./testing/conformance.js";

// One schema per store made (each conformance case starts empty); all dropped in afterAll.
const base = `sluice_fanout_it_${randomBytes(4).toString("hex")}`;
const schemas: string[] = [];
let db: PostgresPool | undefined;

beforeAll(async () => {
  const env = await requireServices(["postgres"]);
  db = createPostgresPool({
    connectionString: env.databaseUrl,
    schema: base,
    poolMax: 6,
  });
});

afterAll(async () => {
  if (db === undefined) return;
  try {
    for (const s of schemas)
      await db.pool.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
  } finally {
    await db.end();
  }
});

const pool = (): PostgresPool => {
  if (db === undefined) throw new Error("pool not created in beforeAll");
  return db;
};

async function freshSchema(): Promise<string> {
  const schema = `${base}_${schemas.length}`;
  schemas.push(schema);
  await migrateFanoutTables(pool(), { schema });
  await migrateScheduleTables(pool(), { schema });
  return schema;
}

actionLogConformance("postgres", async () =>
  postgresActionLog(pool(), { schema: await freshSchema() }),
);
sendAtQueueConformance("postgres", async () =>
  postgresSendAtQueue(pool(), "q", { schema: await freshSchema() }),
);
firingStoreConformance("postgres", async () =>
  postgresFiringStore(pool(), { schema: await freshSchema() }),
);

describe("PostgreSQL fan-out tables", () => {
  it("migrations run twice without change", async () => {
    const schema = await freshSchema();
    expect((await migrateFanoutTables(pool(), { schema })).applied).toEqual([]);
    expect((await migrateScheduleTables(pool(), { schema })).applied).toEqual(
      [],
    );
  });

  it("two workers claiming at once get disjoint items (SKIP LOCKED)", async () => {
    const schema = await freshSchema();
    const q = postgresSendAtQueue<{ readonly n: number }>(pool(), "brief", {
      schema,
    });
    await q.enqueue(
      Array.from({ length: 40 }, (_, i) => ({
        id: `m${i}`,
        dueAt: i,
        payload: { n: i },
      })),
    );
    const [a, b] = await Promise.all([
      q.claim(100, 25, 10_000),
      q.claim(100, 25, 10_000),
    ]);
    const ids = [...a, ...b].map((i) => i.id);
    expect(ids.length).toBe(40);
    expect(new Set(ids).size).toBe(40);
  });

  it("plans a batch of 500 keys in one statement, and a second plan finds them all", async () => {
    const schema = await freshSchema();
    const log = postgresActionLog(pool(), { schema });
    const keys = Array.from({ length: 500 }, (_, i) => ({
      firingId: "f",
      recipient: `r${i}`,
      action: "email",
    }));
    expect(
      (await log.planMany(keys, "smtp", 1)).every((p) => p.status === "new"),
    ).toBe(true);
    expect(
      (await log.planMany(keys, "smtp", 2)).every(
        (p) => p.status === "planned",
      ),
    ).toBe(true);
    expect((await log.listFiring("f")).length).toBe(500);
  });

  it("two instances beginning the same firing at once count attempts 1 and 2, so the second knows it is not first", async () => {
    const schema = await freshSchema();
    const s = postgresFiringStore(pool(), { schema });
    const f = { job: "j", id: "j@x", scheduledAt: 1 };
    const results = await Promise.all([s.begin(f, 1), s.begin(f, 1)]);
    expect(
      results.filter((r) => r.previous === undefined).length,
    ).toBeGreaterThanOrEqual(1);
    expect(results.map((r) => r.attempts).sort()).toEqual([1, 2]);
  });
});
