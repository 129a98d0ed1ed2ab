import { describe, expect, it } from "vitest";
import * as memory from "./index.js";

describe("connectors/memory index", () => {
  it("exports the log, source, sink, options, partitioner and errors", () => {
    expect(Object.keys(memory).sort()).toEqual(
      [
        "MemoryLog",
        "MemorySink",
        "MemorySource",
        "assign",
        "closedError",
        "commitRejected",
        "memberCrashed",
        "memorySink",
        "memorySource",
        "murmur2",
        "partitionForKey",
        "resolveMemorySinkOptions",
        "resolveMemorySourceOptions",
        "topicNotFound",
      ].sort(),
    );
  });
});
