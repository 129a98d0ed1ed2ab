import cassandra from "cassandra-driver";
import { describe, expect, it } from "vitest";
import { SluiceError } from "../../operators/sluice-error.js";
import type { SluiceErrorCode } from "../../operators/sluice-error.js";
import { classifyCassandraError, toCassandraError } from "./classify.js";

const e = cassandra.errors;
const codes = cassandra.types.responseErrorCodes;
const response = (code: number) => new e.ResponseError(code, "server said no");

describe("classifyCassandraError", () => {
  const table: readonly [string, unknown, SluiceErrorCode, boolean][] = [
    ["unavailable", response(codes.unavailableException), "UNAVAILABLE", true],
    ["overloaded", response(codes.overloaded), "UNAVAILABLE", true],
    ["bootstrapping", response(codes.isBootstrapping), "UNAVAILABLE", true],
    ["write timeout", response(codes.writeTimeout), "TIMEOUT", true],
    ["read timeout", response(codes.readTimeout), "TIMEOUT", true],
    ["write failure", response(codes.writeFailure), "UNAVAILABLE", true],
    ["syntax error", response(codes.syntaxError), "CONFIG", false],
    ["unauthorized", response(codes.unauthorized), "CONFIG", false],
    ["invalid query", response(codes.invalid), "VALIDATE", false],
    ["already exists", response(codes.alreadyExists), "CONFLICT", false],
    ["bad credentials", response(codes.badCredentials), "CONFIG", false],
    ["an unknown response code", response(0x7777), "INTERNAL", false],
    ["no host available", new e.NoHostAvailableError({}), "CONNECTION", true],
    [
      "client timeout",
      new e.OperationTimedOutError("t", "127.0.0.1:9042"),
      "TIMEOUT",
      true,
    ],
    [
      "busy connection",
      new e.BusyConnectionError("127.0.0.1:9042", 2048, 1),
      "BACKPRESSURE",
      true,
    ],
    ["bad argument", new e.ArgumentError("bad"), "VALIDATE", false],
    [
      "a value of the wrong type",
      new TypeError("not a string"),
      "VALIDATE",
      false,
    ],
    ["a plain Error", new Error("what"), "INTERNAL", false],
    [
      "a SluiceError keeps its own",
      new SluiceError("CLOSED", "c"),
      "CLOSED",
      false,
    ],
  ];
  it.each(table)("maps %s", (_what, error, code, retryable) => {
    expect(classifyCassandraError(error)).toEqual({ code, retryable });
  });

  it("ignores names: an Error named like a driver error is still unknown", () => {
    const fake = Object.assign(new Error("x"), {
      name: "NoHostAvailableError",
      code: codes.overloaded,
    });
    expect(classifyCassandraError(fake)).toEqual({
      code: "INTERNAL",
      retryable: false,
    });
  });

  it("wraps a driver error keeping the cause and context", () => {
    const cause = response(codes.writeTimeout);
    const w = toCassandraError(cause, "insert", { key: "k" });
    expect(w.code).toBe("TIMEOUT");
    expect(w.cause).toBe(cause);
    expect(w.context.key).toBe("k");
  });
});
