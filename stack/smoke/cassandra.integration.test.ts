import cassandra from "cassandra-driver";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requireServices } from "../index.js";
import { uniqueName } from "./wait.js";

let client: cassandra.Client | undefined;
const keyspace = uniqueName("smoke");

beforeAll(async () => {
  const env = await requireServices(["cassandra"]);
  client = new cassandra.Client({
    contactPoints: [...env.cassandraContactPoints],
    localDataCenter: env.cassandraLocalDc,
  });
  await client.connect();
  await client.execute(
    `CREATE KEYSPACE ${keyspace} WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}`,
  );
});

afterAll(async () => {
  if (client === undefined) return;
  try {
    await client.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`);
  } finally {
    await client.shutdown();
  }
});

function db(): cassandra.Client {
  if (client === undefined) throw new Error("Cassandra client not connected");
  return client;
}

describe("Cassandra smoke", () => {
  it("writes a row and reads it back", async () => {
    await db().execute(
      `CREATE TABLE ${keyspace}.greetings (id text PRIMARY KEY, body text)`,
    );
    await db().execute(
      `INSERT INTO ${keyspace}.greetings (id, body) VALUES (?, ?)`,
      ["g1", "hello cassandra"],
      { prepare: true },
    );
    const rs = await db().execute(
      `SELECT body FROM ${keyspace}.greetings WHERE id = ?`,
      ["g1"],
      { prepare: true },
    );
    expect(rs.first()?.get("body")).toBe("hello cassandra");
  });

  it("creates a table with cdc = true and system_schema reports cdc enabled", async () => {
    await db().execute(
      `CREATE TABLE ${keyspace}.changes (id text PRIMARY KEY, v int) WITH cdc = true`,
    );
    const rs = await db().execute(
      "SELECT cdc FROM system_schema.tables WHERE keyspace_name = ? AND table_name = ?",
      [keyspace, "changes"],
      { prepare: true },
    );
    expect(rs.first()?.get("cdc")).toBe(true);
    // A write to a CDC table is accepted (cdc_enabled on the node; otherwise it is rejected).
    await db().execute(
      `INSERT INTO ${keyspace}.changes (id, v) VALUES (?, ?)`,
      ["c1", 1],
      { prepare: true },
    );
  });
});
