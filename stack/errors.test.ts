import { describe, expect, it } from "vitest";
import { StackError } from "./errors.js";
import { SupersetError } from "./superset.js";

describe("stack errors", () => {
  it("name the service, the log and its last lines, indented", () => {
    const e = new StackError("kafka", "not ready", "/s/kafka.log", "a\nb");
    expect(e.message).toBe(
      "kafka: not ready\n  log: /s/kafka.log\n  last lines of the log:\n    a\n    b",
    );
    expect(e.logPath).toBe("/s/kafka.log");
  });
  it("leave out a missing log and an empty tail", () => {
    expect(new StackError("postgres", "gone").message).toBe("postgres: gone");
    expect(new SupersetError("init", "failed", "/s/x.log", "  ").message).toBe(
      "superset init: failed\n  log: /s/x.log",
    );
  });
});
