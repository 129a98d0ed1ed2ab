/**
 * Hand-written single-loop versions of the queries, generator included: the same-run
 * baselines of `sluice bench nexmark` and the reference implementations the Sluice queries
 * are checked against. Plain loops, Maps and arrays; no RxJS, no records, no ack handles.
 */
import type { Auction, Bid, GeneratorOptions } from "./generator.js";
import { AUCTION, BID, NexmarkGenerator, PERSON } from "./generator.js";
import type { AuctionPrice, BidRow } from "./stateless.js";
import { toEuro } from "./stateless.js";
import type { CategoryAverage, LocalItem, WinningBid } from "./joins.js";
import { Q3_CATEGORY, Q3_STATES } from "./joins.js";
import type { HighestBid, HotItem, NewSeller, Session } from "./windows.js";
import {
  Q11_GAP_MS,
  Q5_SIZE_MS,
  Q5_SLIDE_MS,
  Q7_SIZE_MS,
  Q8_SIZE_MS,
} from "./windows.js";

export type Loop<R> = (
  events: number,
  options: GeneratorOptions,
  emit: (row: R) => void,
) => void;

const floorTo = (t: number, step: number): number => t - (t % step);

export const loopQ0: Loop<BidRow> = (events, options, emit) => {
  const gen = new NexmarkGenerator(options);
  for (let i = 0; i < events; i++) {
    const e = gen.next();
    if (e.type === BID)
      emit({
        auction: e.auction,
        bidder: e.bidder,
        price: e.price,
        dateTime: e.dateTime,
        extra: e.extra,
      });
  }
};

export const loopQ1: Loop<BidRow> = (events, options, emit) => {
  const gen = new NexmarkGenerator(options);
  for (let i = 0; i < events; i++) {
    const e = gen.next();
    if (e.type === BID)
      emit({
        auction: e.auction,
        bidder: e.bidder,
        price: toEuro(e.price),
        dateTime: e.dateTime,
        extra: e.extra,
      });
  }
};

export const loopQ2: Loop<AuctionPrice> = (events, options, emit) => {
  const gen = new NexmarkGenerator(options);
  for (let i = 0; i < events; i++) {
    const e = gen.next();
    if (e.type === BID && e.auction % 123 === 0)
      emit({ auction: e.auction, price: e.price });
  }
};

/** q3: every (category-10 auction, OR/ID/CA seller) pair, whichever came first. */
export const loopQ3: Loop<LocalItem> = (events, options, emit) => {
  const gen = new NexmarkGenerator(options);
  const persons = new Map<
    number,
    { name: string; city: string; state: string }
  >();
  const auctionsBySeller = new Map<number, number[]>();
  for (let i = 0; i < events; i++) {
    const e = gen.next();
    if (e.type === PERSON) {
      if (!Q3_STATES.has(e.state)) continue;
      const p = { name: e.name, city: e.city, state: e.state };
      persons.set(e.id, p);
      for (const id of auctionsBySeller.get(e.id) ?? []) emit({ ...p, id });
      auctionsBySeller.delete(e.id);
    } else if (e.type === AUCTION && e.category === Q3_CATEGORY) {
      const p = persons.get(e.seller);
      if (p !== undefined) emit({ ...p, id: e.id });
      else {
        const list = auctionsBySeller.get(e.seller);
        if (list === undefined) auctionsBySeller.set(e.seller, [e.id]);
        else list.push(e.id);
      }
    }
  }
};

/**
 * The join of q4 and q9, straightforwardly: every auction kept, bids of an auction not seen
 * yet kept until it comes; at the end, per auction, the highest bid within
 * `[dateTime, expires]` (ties: the first).
 */
function winners(events: number, options: GeneratorOptions): WinningBid[] {
  const gen = new NexmarkGenerator(options);
  const auctions = new Map<number, { a: Auction; best: Bid | undefined }>();
  const early = new Map<number, Bid[]>();
  const offer = (s: { a: Auction; best: Bid | undefined }, b: Bid): void => {
    if (
      b.dateTime >= s.a.dateTime &&
      b.dateTime <= s.a.expires &&
      (s.best === undefined || b.price > s.best.price)
    )
      s.best = b;
  };
  for (let i = 0; i < events; i++) {
    const e = gen.next();
    if (e.type === AUCTION) {
      const s = { a: e, best: undefined };
      auctions.set(e.id, s);
      for (const b of early.get(e.id) ?? []) offer(s, b);
      early.delete(e.id);
    } else if (e.type === BID) {
      const s = auctions.get(e.auction);
      if (s !== undefined) offer(s, e);
      else {
        const list = early.get(e.auction);
        if (list === undefined) early.set(e.auction, [e]);
        else list.push(e);
      }
    }
  }
  const out: WinningBid[] = [];
  for (const { a, best } of auctions.values())
    if (best !== undefined)
      out.push({
        auction: a.id,
        category: a.category,
        bidder: best.bidder,
        price: best.price,
        dateTime: best.dateTime,
      });
  return out;
}

/** q4: the final average winning price per category. */
export const loopQ4: Loop<CategoryAverage> = (events, options, emit) => {
  const sums = new Map<number, { sum: number; count: number }>();
  for (const w of winners(events, options)) {
    const s = sums.get(w.category) ?? { sum: 0, count: 0 };
    s.sum += w.price;
    s.count += 1;
    sums.set(w.category, s);
  }
  for (const [category, s] of sums) emit({ category, avg: s.sum / s.count });
};

export const loopQ9: Loop<WinningBid> = (events, options, emit) => {
  for (const w of winners(events, options)) emit(w);
};

/** q5: counts per auction in 2 s panes; at each pane boundary the windows ending there fire. */
export const loopQ5: Loop<HotItem> = (events, options, emit) => {
  const gen = new NexmarkGenerator(options);
  const panes = new Map<number, Map<number, number>>();
  let nextEnd = Infinity;
  let lastPane = -Infinity;
  const fire = (upTo: number): void => {
    for (; nextEnd <= upTo; nextEnd += Q5_SLIDE_MS) {
      const start = nextEnd - Q5_SIZE_MS;
      const counts = new Map<number, number>();
      for (let p = start; p < nextEnd; p += Q5_SLIDE_MS)
        for (const [a, c] of panes.get(p) ?? [])
          counts.set(a, (counts.get(a) ?? 0) + c);
      panes.delete(start);
      let max = 0;
      for (const c of counts.values()) if (c > max) max = c;
      for (const [auction, num] of counts)
        if (num === max) emit({ auction, num, windowStart: start });
    }
  };
  for (let i = 0; i < events; i++) {
    const e = gen.next();
    if (e.type !== BID) continue;
    const pane = floorTo(e.dateTime, Q5_SLIDE_MS);
    if (pane > lastPane) {
      if (lastPane === -Infinity) nextEnd = pane + Q5_SLIDE_MS;
      fire(pane);
      lastPane = pane;
      panes.set(pane, new Map());
    }
    const m = panes.get(pane)!;
    m.set(e.auction, (m.get(e.auction) ?? 0) + 1);
  }
  fire(lastPane + Q5_SIZE_MS);
};

/** q7: the highest price of each 10 s window and the bids at that price. */
export const loopQ7: Loop<HighestBid> = (events, options, emit) => {
  const gen = new NexmarkGenerator(options);
  let windowEnd = -Infinity;
  let max = -Infinity;
  let bids: Bid[] = [];
  const fire = (): void => {
    for (const b of bids)
      emit({
        auction: b.auction,
        price: b.price,
        bidder: b.bidder,
        dateTime: b.dateTime,
        extra: b.extra,
      });
    bids = [];
    max = -Infinity;
  };
  for (let i = 0; i < events; i++) {
    const e = gen.next();
    if (e.type !== BID) continue;
    if (e.dateTime >= windowEnd) {
      fire();
      windowEnd = floorTo(e.dateTime, Q7_SIZE_MS) + Q7_SIZE_MS;
    }
    if (e.price > max) {
      max = e.price;
      bids = [e];
    } else if (e.price === max) bids.push(e);
  }
  fire();
};

/** q8: persons and sellers of each 10 s window, joined on id when the window ends. */
export const loopQ8: Loop<NewSeller> = (events, options, emit) => {
  const gen = new NexmarkGenerator(options);
  let windowEnd = -Infinity;
  let persons = new Map<number, string>();
  let sellers = new Set<number>();
  const fire = (): void => {
    for (const [id, name] of persons)
      if (sellers.has(id))
        emit({ id, name, starttime: windowEnd - Q8_SIZE_MS });
    persons = new Map();
    sellers = new Set();
  };
  for (let i = 0; i < events; i++) {
    const e = gen.next();
    if (e.type === BID) continue;
    if (e.dateTime >= windowEnd) {
      fire();
      windowEnd = floorTo(e.dateTime, Q8_SIZE_MS) + Q8_SIZE_MS;
    }
    if (e.type === PERSON) persons.set(e.id, e.name);
    else sellers.add(e.seller);
  }
  fire();
};

/** q11: a bidder's session goes on while its bids are at most 10 s apart. */
export const loopQ11: Loop<Session> = (events, options, emit) => {
  const gen = new NexmarkGenerator(options);
  const open = new Map<number, { start: number; last: number; n: number }>();
  const close = (
    bidder: number,
    s: { start: number; last: number; n: number },
  ) =>
    emit({ bidder, bidCount: s.n, start: s.start, end: s.last + Q11_GAP_MS });
  for (let i = 0; i < events; i++) {
    const e = gen.next();
    if (e.type !== BID) continue;
    const s = open.get(e.bidder);
    if (s !== undefined && e.dateTime <= s.last + Q11_GAP_MS) {
      s.last = e.dateTime;
      s.n += 1;
    } else {
      if (s !== undefined) close(e.bidder, s);
      open.set(e.bidder, { start: e.dateTime, last: e.dateTime, n: 1 });
    }
  }
  for (const [bidder, s] of open) close(bidder, s);
};
