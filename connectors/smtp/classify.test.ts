import { describe, expect, it } from "vitest";
import { isUnknownOutcome } from "../fanout/sender.js";
import { classifySmtpError } from "./classify.js";

describe("classifySmtpError", () => {
  it.each([
    [
      { responseCode: 451, code: "EMESSAGE", command: "DATA" },
      "UNAVAILABLE",
      true,
      false,
    ],
    [{ responseCode: 421, code: "ECONNECTION" }, "UNAVAILABLE", true, false],
    [
      { responseCode: 550, code: "EENVELOPE", command: "RCPT TO" },
      "PROCESS",
      false,
      false,
    ],
    [
      { responseCode: 554, code: "EMESSAGE", command: "DATA" },
      "PROCESS",
      false,
      false,
    ],
    [{ code: "EAUTH" }, "CONFIG", false, false],
    [
      { responseCode: 535, code: "EAUTH", command: "AUTH PLAIN" },
      "CONFIG",
      false,
      false,
    ],
    [{ code: "ETLS" }, "CONFIG", false, false],
    [{ code: "EENVELOPE", command: "API" }, "VALIDATE", false, false],
    [{ code: "ETIMEDOUT" }, "TIMEOUT", false, true],
    [{ code: "ECONNECTION", command: "DATA" }, "TIMEOUT", false, true],
    [{ code: "ESOCKET", command: "CONN" }, "CONNECTION", true, false],
    [{ code: "EDNS" }, "CONNECTION", true, false],
  ] as const)(
    "%o is %s (retryable %s, unknown outcome %s)",
    (error, code, retryable, unknown) => {
      const e = classifySmtpError(
        Object.assign(new Error("x"), error),
        "smtp send",
      );
      expect([e.code, e.retryable, isUnknownOutcome(e)]).toEqual([
        code,
        retryable,
        unknown,
      ]);
      expect(e.message).toMatch(/^smtp send: x/);
    },
  );
});
