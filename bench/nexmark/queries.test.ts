import { describe, expect, it } from "vitest";
import type { NexmarkQuery } from "./common.js";
import { runQuery } from "./common.js";
import type { GeneratorOptions } from "./generator.js";
import { defaultGeneratorOptions } from "./generator.js";
import type { Loop } from "./loops.js";
import * as loops from "./loops.js";
import type { CategoryAverage } from "./joins.js";
import { q3, q4, q9 } from "./joins.js";
import { q0, q1, q2 } from "./stateless.js";
import { q11, q5, q7, q8 } from "./windows.js";

// 60 k events at 3 k events/s: 20 s of event time, so every window kind closes several times
const EVENTS = 60_000;
const OPTIONS: GeneratorOptions = {
  ...defaultGeneratorOptions,
  seed: 7,
  eventsPerSec: 3_000,
};

const canonical = (rows: readonly unknown[]): string[] =>
  rows.map((r) => JSON.stringify(r)).sort();

function reference<R>(loop: Loop<R>): R[] {
  const rows: R[] = [];
  loop(EVENTS, OPTIONS, (r) => rows.push(r));
  return rows;
}

const cases: [string, () => NexmarkQuery<unknown>, Loop<unknown>][] = [
  ["q0", q0, loops.loopQ0],
  ["q1", q1, loops.loopQ1],
  ["q2", q2, loops.loopQ2],
  ["q3", q3, loops.loopQ3],
  ["q5", q5, loops.loopQ5],
  ["q7", q7, loops.loopQ7],
  ["q8", q8, loops.loopQ8],
  ["q9", q9, loops.loopQ9],
  ["q11", q11, loops.loopQ11],
] as [string, () => NexmarkQuery<unknown>, Loop<unknown>][];

describe("Nexmark queries written with Sluice operators", () => {
  for (const [name, query, loop] of cases) {
    it(`${name} gives the same rows as the plain loop and acknowledges every event`, async () => {
      const expected = reference(loop);
      expect(expected.length).toBeGreaterThan(0);
      const run = await runQuery(query(), EVENTS, OPTIONS, true);
      expect(run.outputs).toBe(expected.length);
      expect(canonical(run.rows)).toEqual(canonical(expected));
    });
  }

  it("q4's last average per category is the plain loop's final average", async () => {
    const expected = reference(loops.loopQ4);
    const run = await runQuery(q4(), EVENTS, OPTIONS, true);
    const last = new Map<number, CategoryAverage>();
    for (const r of run.rows) last.set(r.category, r);
    expect(expected.length).toBe(5);
    expect(canonical([...last.values()])).toEqual(canonical(expected));
  });
});
