import { describe, expect, it } from "vitest";
import * as smtp from "./index.js";

describe("connectors/smtp index", () => {
  it("exports the sender, its Message-ID, the error classification and the config section", () => {
    expect(Object.keys(smtp).sort()).toEqual([
      "classifySmtpError",
      "smtpConfigSchema",
      "smtpMessageId",
      "smtpSender",
      "smtpSenderOptions",
    ]);
  });
});
