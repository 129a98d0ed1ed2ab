import { describe, expect, it } from "vitest";
import {
  AUCTION,
  BID,
  defaultGeneratorOptions,
  generate,
  PERSON,
} from "./generator.js";

describe("the Nexmark generator", () => {
  it("repeats the same events for the same seed and differs for another", () => {
    const a = generate(2_000);
    expect(generate(2_000)).toEqual(a);
    expect(
      generate(2_000, { ...defaultGeneratorOptions, seed: 9 }),
    ).not.toEqual(a);
  });

  it("emits persons, auctions and bids 1:3:46 with ascending ids and event time", () => {
    const events = generate(50_000);
    const count = [0, 0, 0];
    let lastTime = -Infinity;
    let lastPerson = 999;
    let lastAuction = 999;
    for (const e of events) {
      count[e.type]! += 1;
      expect(e.dateTime).toBeGreaterThanOrEqual(lastTime);
      lastTime = e.dateTime;
      if (e.type === PERSON) {
        expect(e.id).toBe(lastPerson + 1);
        lastPerson = e.id;
      } else if (e.type === AUCTION) {
        expect(e.id).toBe(lastAuction + 1);
        lastAuction = e.id;
        expect(e.expires).toBeGreaterThan(e.dateTime);
        expect(e.category).toBeGreaterThanOrEqual(10);
        expect(e.category).toBeLessThan(15);
      }
    }
    expect(count).toEqual([1_000, 3_000, 46_000]);
    // 100 k events/s of event time: 50 k events span half a second
    expect(lastTime - events[0]!.dateTime).toBe(499);
  });

  it("sends about half the bids to hot auctions and three quarters to hot bidders", () => {
    const bids = generate(100_000).filter((e) => e.type === BID);
    const hotAuction = bids.filter((b) => (b.auction - 1000) % 100 === 0);
    const hotBidder = bids.filter((b) => (b.bidder - 1000) % 100 === 1);
    expect(hotAuction.length / bids.length).toBeGreaterThan(0.45);
    expect(hotBidder.length / bids.length).toBeGreaterThan(0.7);
  });
});
