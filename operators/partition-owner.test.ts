import { EMPTY } from "rxjs";
import { describe, expect, it } from "vitest";
import { linkedOrigins, ownerOf } from "./partition-owner.js";
import type { PartitionOwner } from "./partition-owner.js";
import { derive, record } from "./record.js";

const owner: PartitionOwner = { assignments: () => EMPTY };

describe("linkedOrigins", () => {
  it("builds origins that lead back to their owner, also through derived records", () => {
    const originOf = linkedOrigins(owner);
    const r = record({ value: 1, timestamp: 0, origin: originOf("t", 3, 7) });
    expect(ownerOf(r.origin)).toBe(owner);
    expect(ownerOf(derive(r, "x").origin)).toBe(owner);
  });

  it("keeps topic, partition and offset as the only own fields", () => {
    const origin = linkedOrigins(owner)("t", 3, 7);
    expect(origin).toEqual({ topic: "t", partition: 3, offset: 7 });
    expect(JSON.parse(JSON.stringify(origin))).toEqual({
      topic: "t",
      partition: 3,
      offset: 7,
    });
    expect(Object.keys(origin)).toEqual(["topic", "partition", "offset"]);
  });

  it("tells two sources' origins apart", () => {
    const other: PartitionOwner = { assignments: () => EMPTY };
    expect(ownerOf(linkedOrigins(owner)("t", 0, 0))).toBe(owner);
    expect(ownerOf(linkedOrigins(other)("t", 0, 0))).toBe(other);
  });

  it("finds no owner on plain or missing origins", () => {
    expect(ownerOf({ topic: "t", partition: 0, offset: 0 })).toBeUndefined();
    expect(ownerOf(undefined)).toBeUndefined();
    expect(ownerOf({ ...linkedOrigins(owner)("t", 0, 0) })).toBeUndefined();
  });
});
