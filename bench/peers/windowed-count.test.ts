import { describe, expect, it } from "vitest";
import { runQuery } from "../nexmark/common.js";
import { defaultGeneratorOptions } from "../nexmark/generator.js";
import type { AuctionCount } from "./windowed-count.js";
import { loopWindowedCount, windowedCount } from "./windowed-count.js";

describe("the windowed count of `sluice bench peers`", () => {
  it("counts bids per auction and 10 s window as the plain loop does, acking every event", async () => {
    const options = {
      ...defaultGeneratorOptions,
      seed: 3,
      eventsPerSec: 2_000,
    };
    const expected: AuctionCount[] = [];
    loopWindowedCount(50_000, options, (r) => expected.push(r));
    const run = await runQuery(windowedCount(), 50_000, options, true);
    const canonical = (rows: readonly AuctionCount[]): string[] =>
      rows.map((r) => `${r.windowStart}/${r.auction}/${r.count}`).sort();
    expect(new Set(expected.map((r) => r.windowStart)).size).toBe(3);
    expect(canonical(run.rows)).toEqual(canonical(expected));
  });
});
