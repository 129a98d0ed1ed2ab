import { counter } from "../../operators/aggregate.js";
import { tumblingWindow } from "../../operators/tumbling-window.js";
import type { WindowResult } from "../../operators/window-result.js";
import { withWatermarks } from "../../operators/with-watermarks.js";
import type { NexmarkQuery } from "../nexmark/common.js";
import { noLate, select } from "../nexmark/common.js";
import type { GeneratorOptions, NexmarkEvent } from "../nexmark/generator.js";
import { BID, NexmarkGenerator } from "../nexmark/generator.js";

export const COUNT_SIZE_MS = 10_000;

/** A row of the windowed count: bids of one auction in one 10 s tumbling window. */
export interface AuctionCount {
  readonly windowStart: number;
  readonly auction: number;
  readonly count: number;
}

/**
 * The windowed count `sluice bench peers` runs on Sluice and Kafka Streams alike: bids per
 * auction in 10 s tumbling event-time windows, one final row per auction and window
 * (Kafka Streams: `groupByKey().windowedBy(10 s, grace 0).count().suppress(untilWindowCloses)`).
 */
export const windowedCount = (): NexmarkQuery<AuctionCount> => (source) =>
  source.pipe(
    withWatermarks<NexmarkEvent>({ maxOutOfOrdernessMs: 0 }),
    select(
      (e: NexmarkEvent) => (e.type === BID ? e.auction : undefined),
      (auction) => String(auction),
    ),
    tumblingWindow({
      sizeMs: COUNT_SIZE_MS,
      aggregate: counter<number>(),
      maxOpenWindows: 10_000_000,
    }),
    noLate(),
    select((w: WindowResult<number>): AuctionCount => ({
      windowStart: w.windowStart,
      auction: Number(w.key),
      count: w.result,
    })),
  );

/** The reference: the same count as a plain loop over the generator (every window, open ones too). */
export function loopWindowedCount(
  events: number,
  options: GeneratorOptions,
  emit: (row: AuctionCount) => void,
): void {
  const gen = new NexmarkGenerator(options);
  const counts = new Map<string, AuctionCount>();
  for (let i = 0; i < events; i++) {
    const e = gen.next();
    if (e.type !== BID) continue;
    const windowStart = e.dateTime - (e.dateTime % COUNT_SIZE_MS);
    const k = `${windowStart}/${e.auction}`;
    const c = counts.get(k);
    counts.set(k, {
      windowStart,
      auction: e.auction,
      count: (c?.count ?? 0) + 1,
    });
  }
  for (const c of counts.values()) emit(c);
}
