import { describe, expect, it } from "vitest";
import { quoteIdent, sqlFile, substitute, upsertStatement } from "./sql.js";

describe("quoteIdent", () => {
  it("quotes a name and doubles quotes inside it", () => {
    expect(quoteIdent("orders")).toBe('"orders"');
    expect(quoteIdent('a"b')).toBe('"a""b"');
  });
  it("rejects an empty name", () => {
    expect(() => quoteIdent("")).toThrow(/not a valid SQL identifier/);
  });
});

describe("query files", () => {
  it("replace ${schema} with the quoted schema", () => {
    const text = sqlFile("select-checkpoint", { schema: "jobs" });
    expect(text).toContain('FROM "jobs".checkpoints');
    expect(text).not.toContain("${");
  });
  it("reject placeholders they do not know", () => {
    expect(() =>
      substitute("SELECT ${table}", { schema: "s" }, "x.sql"),
    ).toThrow("x.sql: unknown placeholder ${table}");
  });
});

describe("upsertStatement", () => {
  const shape = {
    schema: "s",
    table: "t",
    columns: ["id", "v", "ver"],
    keyColumns: ["id"],
    updateColumns: ["v", "ver"],
    versionColumn: undefined,
  };
  it("numbers the parameters row by row", () => {
    expect(upsertStatement(shape, 2)).toBe(
      'INSERT INTO "s"."t" AS t ("id", "v", "ver") VALUES ($1, $2, $3), ($4, $5, $6) ON CONFLICT ("id") DO UPDATE SET "v" = EXCLUDED."v", "ver" = EXCLUDED."ver"',
    );
  });
  it("guards the update with the version column", () => {
    expect(upsertStatement({ ...shape, versionColumn: "ver" }, 1)).toMatch(
      / WHERE t\."ver" <= EXCLUDED\."ver"$/,
    );
  });
  it("does nothing on conflict when there is nothing to update", () => {
    expect(upsertStatement({ ...shape, updateColumns: [] }, 1)).toMatch(
      /DO NOTHING$/,
    );
  });
});
