import { describe, expect, it } from "vitest";
import * as smtp from "./index.js";

describe("connectors/smtp index", () => {
  it("exports the sender, its Message-ID and the error classification", () => {
    expect(Object.keys(smtp).sort()).toEqual([
      "classifySmtpError",
      "smtpMessageId",
      "smtpSender",
    ]);
  });
});
