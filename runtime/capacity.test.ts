import { describe, expect, it } from "vitest";
import { SluiceError } from "../operators/sluice-error.js";
import { assertCapacity, capacityProblem } from "./capacity.js";

describe("capacityProblem", () => {
  it("accepts a stage buffer equal to or above the intake cap", () => {
    const cap = { field: "maxInFlight", value: 100 };
    expect(capacityProblem(cap, { field: "b", value: 100 })).toBeUndefined();
    expect(capacityProblem(cap, { field: "b", value: 101 })).toBeUndefined();
  });

  it("names both fields and values when the buffer is below the cap", () => {
    const why = capacityProblem(
      { field: "maxInFlight", value: 2_000 },
      { field: "dedupeMaxBuffered", value: 1_000 },
    );
    expect(why).toMatch(
      /^must be at least maxInFlight \(dedupeMaxBuffered 1000 < maxInFlight 2000\)/,
    );
    expect(() =>
      assertCapacity(
        { field: "maxInFlight", value: 2_000 },
        { field: "dedupeMaxBuffered", value: 1_000 },
      ),
    ).toThrow(SluiceError);
  });
});
