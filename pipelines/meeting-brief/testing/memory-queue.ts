import type { BriefQueue } from "../prepare.js";
import type { RenderedBrief } from "../types.js";

/** A list-backed {@link BriefQueue} for tests of the 05:00 run alone. */
export function listQueue(): BriefQueue & {
  readonly items: Map<string, { dueAt: number; payload: RenderedBrief }>;
} {
  const items = new Map<string, { dueAt: number; payload: RenderedBrief }>();
  return {
    items,
    enqueue(list) {
      let added = 0;
      for (const i of list)
        if (!items.has(i.id)) {
          items.set(i.id, { dueAt: i.dueAt, payload: i.payload });
          added++;
        }
      return Promise.resolve(added);
    },
  };
}
