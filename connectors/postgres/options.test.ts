import { describe, expect, it } from "vitest";
import { SluiceError } from "../../operators/sluice-error.js";
import {
  MAX_PARAMETERS,
  resolvePostgresOptions,
  resolvePostgresSinkOptions,
} from "./options.js";
import type { PostgresSinkOptions } from "./options.js";

const url = "postgres://sluice:s3cret-pass@127.0.0.1:5432/sluice";
const caught = (f: () => unknown): SluiceError => {
  try {
    f();
  } catch (e) {
    if (e instanceof SluiceError) return e;
    throw e;
  }
  throw new Error("did not throw");
};
const sink = (
  o: Partial<PostgresSinkOptions<string>> = {},
): PostgresSinkOptions<string> => ({
  table: "orders",
  columns: ["id", "v", "ts"],
  keyColumns: ["id"],
  toRow: (r) => ({ id: r.key, v: r.value, ts: 0 }),
  ...o,
});

describe("resolvePostgresOptions", () => {
  it("applies the defaults", () => {
    expect(resolvePostgresOptions({ connectionString: url })).toEqual({
      connectionString: url,
      schema: "sluice",
      poolMax: 10,
      idleTimeoutMs: 10_000,
      connectionTimeoutMs: 5_000,
      statementTimeoutMs: 30_000,
      applicationName: "sluice",
      outageDeadlineMs: 60_000,
    });
  });

  it("names the field of a bad schema", () => {
    const e = caught(() =>
      resolvePostgresOptions({ connectionString: url, schema: 'x"; DROP' }),
    );
    expect(e.code).toBe("CONFIG");
    expect(e.message).toMatch(/^postgres\.schema: /);
    expect(e.context.field).toBe("schema");
  });

  it("names the field of a bad pool size", () => {
    expect(
      caught(() =>
        resolvePostgresOptions({ connectionString: url, poolMax: 0 }),
      ).message,
    ).toMatch(/^postgres\.poolMax: /);
  });

  it("never prints the connection string, even when it is the bad field", () => {
    const bad = "mysql://sluice:s3cret-pass@host/db";
    const e = caught(() => resolvePostgresOptions({ connectionString: bad }));
    expect(e.message).toMatch(/^postgres\.connectionString: /);
    expect(e.message).not.toContain("s3cret-pass");
    const other = caught(() =>
      resolvePostgresOptions({ connectionString: url, poolMax: -1 }),
    );
    expect(other.message).not.toContain("s3cret-pass");
  });

  it("rejects unknown options", () => {
    const e = caught(() =>
      resolvePostgresOptions({
        connectionString: url,
        ...({ pool: 3 } as object),
      }),
    );
    expect(e.code).toBe("CONFIG");
  });
});

describe("resolvePostgresSinkOptions", () => {
  it("defaults update columns to the non-key columns and names the sink", () => {
    const o = resolvePostgresSinkOptions(sink(), "sluice");
    expect(o.updateColumns).toEqual(["v", "ts"]);
    expect(o.name).toBe("postgres:sluice.orders");
    expect(o.maxInFlight).toBe(4);
    expect(o.maxRowsPerStatement).toBe(500);
  });

  it("caps rows per statement by the parameter limit", () => {
    const o = resolvePostgresSinkOptions(
      sink({ maxRowsPerStatement: 100_000 }),
      "s",
    );
    expect(o.maxRowsPerStatement).toBe(Math.floor(MAX_PARAMETERS / 3));
  });

  it("names a key column that is not among the columns", () => {
    const e = caught(() =>
      resolvePostgresSinkOptions(sink({ keyColumns: ["nope"] }), "s"),
    );
    expect(e.message).toBe(
      "postgres.sink.keyColumns: column nope is not in columns",
    );
  });

  it("names a version column that is not among the columns", () => {
    const e = caught(() =>
      resolvePostgresSinkOptions(sink({ versionColumn: "ver" }), "s"),
    );
    expect(e.context.field).toBe("versionColumn");
  });

  it("rejects update columns that include a key", () => {
    const e = caught(() =>
      resolvePostgresSinkOptions(sink({ updateColumns: ["id"] }), "s"),
    );
    expect(e.context.field).toBe("updateColumns");
  });

  it("names an unsafe column with its index", () => {
    const e = caught(() =>
      resolvePostgresSinkOptions(sink({ columns: ["id", "V"] }), "s"),
    );
    expect(e.message).toMatch(/^postgres\.sink\.columns\.1: /);
  });

  it("requires toRow to be a function", () => {
    const e = caught(() =>
      resolvePostgresSinkOptions(
        sink({ toRow: 3 as unknown as PostgresSinkOptions<string>["toRow"] }),
        "s",
      ),
    );
    expect(e.message).toBe("postgres.sink.toRow: must be a function");
  });
});
