import { describe, expect, it } from "vitest";
import { SluiceError } from "../../operators/sluice-error.js";
import type { SluiceErrorCode } from "../../operators/sluice-error.js";
import { classifyPostgresError, toPostgresError } from "./classify.js";

const withCode = (code: unknown): Error =>
  Object.assign(new Error("driver"), { code });

describe("classifyPostgresError", () => {
  const table: readonly [string, unknown, SluiceErrorCode, boolean][] = [
    [
      "serialization failure (CockroachDB retry)",
      withCode("40001"),
      "CONFLICT",
      true,
    ],
    ["deadlock", withCode("40P01"), "CONFLICT", true],
    ["unique violation", withCode("23505"), "CONFLICT", false],
    ["not-null violation, by class 23", withCode("23502"), "VALIDATE", false],
    ["numeric out of range, by class 22", withCode("22003"), "VALIDATE", false],
    ["statement timeout", withCode("57014"), "TIMEOUT", true],
    ["admin shutdown", withCode("57P01"), "UNAVAILABLE", true],
    ["connection failure, by class 08", withCode("08006"), "CONNECTION", true],
    [
      "too many connections, by class 53",
      withCode("53300"),
      "UNAVAILABLE",
      true,
    ],
    ["bad password, by class 28", withCode("28P01"), "CONFIG", false],
    ["undefined table", withCode("42P01"), "NOT_FOUND", false],
    ["syntax error, by class 42", withCode("42601"), "CONFIG", false],
    ["unknown database", withCode("3D000"), "CONFIG", false],
    ["connection refused", withCode("ECONNREFUSED"), "CONNECTION", true],
    ["connection reset", withCode("ECONNRESET"), "CONNECTION", true],
    ["socket timeout", withCode("ETIMEDOUT"), "TIMEOUT", true],
    ["unknown SQLSTATE class", withCode("HV000"), "INTERNAL", false],
    ["a code that is no SQLSTATE", withCode("weird"), "INTERNAL", false],
    ["no code", new Error("x"), "INTERNAL", false],
    ["a string", "boom", "INTERNAL", false],
    [
      "a SluiceError keeps its own",
      new SluiceError("TIMEOUT", "t", { retryable: true }),
      "TIMEOUT",
      true,
    ],
  ];
  it.each(table)("maps %s", (_what, error, code, retryable) => {
    expect(classifyPostgresError(error)).toEqual({ code, retryable });
  });

  it("ignores the error's name and message", () => {
    const e = Object.assign(new Error("connection refused ECONNREFUSED"), {
      name: "ConnectionError",
    });
    expect(classifyPostgresError(e)).toEqual({
      code: "INTERNAL",
      retryable: false,
    });
  });

  it("wraps a driver error into a SluiceError keeping the cause and context", () => {
    const cause = withCode("40001");
    const e = toPostgresError(cause, "upsert", { key: "k" });
    expect(e).toBeInstanceOf(SluiceError);
    expect(e.code).toBe("CONFLICT");
    expect(e.retryable).toBe(true);
    expect(e.cause).toBe(cause);
    expect(e.context.key).toBe("k");
  });
});
