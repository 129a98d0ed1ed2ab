import { describe, expect, it } from "vitest";
import { SluiceError } from "../../operators/sluice-error.js";
import type { SluiceErrorCode } from "../../operators/sluice-error.js";
import { classifyMemcachedFailure, toMemcachedError } from "./classify.js";
import type { MemcachedFailure } from "./classify.js";

const status = (s: number): MemcachedFailure => ({ kind: "status", status: s });
const transport = (error: unknown): MemcachedFailure => ({
  kind: "transport",
  error,
});
const errno = (code: string): Error =>
  Object.assign(new Error("socket"), { code });

describe("classifyMemcachedFailure", () => {
  const table: readonly [string, MemcachedFailure, SluiceErrorCode, boolean][] =
    [
      ["key not found", status(0x01), "NOT_FOUND", false],
      ["key exists / CAS mismatch", status(0x02), "CONFLICT", false],
      ["value too large", status(0x03), "VALIDATE", false],
      ["invalid arguments", status(0x04), "VALIDATE", false],
      ["authentication error", status(0x20), "CONFIG", false],
      ["unknown command", status(0x81), "CONFIG", false],
      ["out of memory", status(0x82), "UNAVAILABLE", true],
      ["busy", status(0x85), "UNAVAILABLE", true],
      ["temporary failure", status(0x86), "UNAVAILABLE", true],
      ["an unknown status", status(0x99), "INTERNAL", false],
      [
        "connection refused",
        transport(errno("ECONNREFUSED")),
        "CONNECTION",
        true,
      ],
      ["connection reset", transport(errno("ECONNRESET")), "CONNECTION", true],
      ["socket timeout errno", transport(errno("ETIMEDOUT")), "TIMEOUT", true],
      [
        "memjs timeout (no errno)",
        transport(new Error("socket timed out waiting on response.")),
        "UNAVAILABLE",
        true,
      ],
      [
        "a SluiceError keeps its own",
        transport(new SluiceError("CLOSED", "c")),
        "CLOSED",
        false,
      ],
    ];
  it.each(table)("maps %s", (_what, failure, code, retryable) => {
    expect(classifyMemcachedFailure(failure)).toEqual({ code, retryable });
  });

  it("ignores messages: an auth-sounding message on a transport error stays a transport error", () => {
    expect(
      classifyMemcachedFailure(transport(new Error("MemJS SET: Auth error"))),
    ).toEqual({
      code: "UNAVAILABLE",
      retryable: true,
    });
  });

  it("wraps a failure into a SluiceError naming the call and the status", () => {
    const e = toMemcachedError(status(0x85), "memcached add h:1");
    expect(e).toBeInstanceOf(SluiceError);
    expect(e.message).toBe("memcached add h:1: status 0x85");
    expect(e.retryable).toBe(true);
  });
});
