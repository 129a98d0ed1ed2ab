import { describe, expect, it } from "vitest";
import * as fanout from "./index.js";

describe("connectors/fanout index", () => {
  it("exports the action log, send-at queue and source, deliverOnce and the PostgreSQL stores", () => {
    expect(Object.keys(fanout).sort()).toEqual(
      [
        "UnknownOutcomeError",
        "collectDeadLetters",
        "deliverOnce",
        "idempotencyKey",
        "isUnknownOutcome",
        "keyDigest",
        "memoryActionLog",
        "memorySendAtQueue",
        "migrateFanoutTables",
        "planStatusOf",
        "postgresActionLog",
        "postgresSendAtQueue",
        "sendAtSource",
      ].sort(),
    );
  });
});
