import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requireServices } from "../index.js";
import { uniqueName } from "./wait.js";

let pool: pg.Pool | undefined;
const table = uniqueName("smoke_tx");

beforeAll(async () => {
  const env = await requireServices(["postgres"]);
  pool = new pg.Pool({ connectionString: env.databaseUrl, max: 2 });
  await pool.query(`CREATE TABLE ${table} (id text PRIMARY KEY, v int)`);
});

afterAll(async () => {
  if (pool === undefined) return;
  try {
    await pool.query(`DROP TABLE IF EXISTS ${table}`);
  } finally {
    await pool.end();
  }
});

function db(): pg.Pool {
  if (pool === undefined) throw new Error("PostgreSQL pool not created");
  return pool;
}

async function count(id: string): Promise<number> {
  const r = await db().query<{ n: string }>(
    `SELECT count(*) AS n FROM ${table} WHERE id = $1`,
    [id],
  );
  return Number(r.rows[0]?.n ?? "-1");
}

describe("PostgreSQL smoke", () => {
  it("makes a committed transaction's row visible to another connection", async () => {
    const tx = await db().connect();
    try {
      await tx.query("BEGIN");
      await tx.query(`INSERT INTO ${table} (id, v) VALUES ($1, $2)`, [
        "committed",
        1,
      ]);
      expect(await count("committed")).toBe(0); // not visible before commit
      await tx.query("COMMIT");
    } finally {
      tx.release();
    }
    expect(await count("committed")).toBe(1);
  });

  it("leaves no trace of a rolled-back transaction", async () => {
    const tx = await db().connect();
    try {
      await tx.query("BEGIN");
      await tx.query(`INSERT INTO ${table} (id, v) VALUES ($1, $2)`, [
        "rolled-back",
        2,
      ]);
      const inside = await tx.query<{ n: string }>(
        `SELECT count(*) AS n FROM ${table} WHERE id = $1`,
        ["rolled-back"],
      );
      expect(inside.rows[0]?.n).toBe("1"); // visible inside its own transaction
      await tx.query("ROLLBACK");
    } finally {
      tx.release();
    }
    expect(await count("rolled-back")).toBe(0);
  });
});
