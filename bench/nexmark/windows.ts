import { counter } from "../../operators/aggregate.js";
import type { Aggregate } from "../../operators/aggregate.js";
import { keyedProcess } from "../../operators/keyed-process.js";
import { valueState } from "../../operators/keyed-state.js";
import { derive, record } from "../../operators/record.js";
import { sessionWindow } from "../../operators/session-window.js";
import { slidingWindow } from "../../operators/sliding-window.js";
import { tumblingWindow } from "../../operators/tumbling-window.js";
import type { WindowResult } from "../../operators/window-result.js";
import { withWatermarks } from "../../operators/with-watermarks.js";
import type { Auction, Bid, NexmarkEvent } from "./generator.js";
import { AUCTION, BID, PERSON } from "./generator.js";
import type { NexmarkQuery } from "./common.js";
import { noLate, select } from "./common.js";

/** Nexmark comes in event-time order: the watermark follows the newest timestamp (Beam). */
const inOrder = () => withWatermarks<NexmarkEvent>({ maxOutOfOrdernessMs: 0 });
const MAX_OPEN = 10_000_000;

export const Q5_SIZE_MS = 10_000;
export const Q5_SLIDE_MS = 2_000;

/** A row of q5: an auction with the most bids of a sliding window (all ties). */
export interface HotItem {
  readonly auction: number;
  readonly num: number;
  readonly windowStart: number;
}

interface Hottest {
  max: number;
  auctions: number[];
}

const hottest = valueState<Hottest>("q5-hottest");

/**
 * q5, hot items: bids counted per auction in `HOP(2 s, 10 s)` windows (the sliding window
 * keeps 2 s panes per key), then per window the auctions whose count is the window's maximum,
 * emitted when the watermark passes the window.
 */
export const q5 = (): NexmarkQuery<HotItem> => (source) =>
  source.pipe(
    inOrder(),
    select(
      (e: NexmarkEvent) => (e.type === BID ? e.auction : undefined),
      (auction) => String(auction),
    ),
    slidingWindow({
      sizeMs: Q5_SIZE_MS,
      slideMs: Q5_SLIDE_MS,
      aggregate: counter<number>(),
      maxOpenWindows: MAX_OPEN,
    }),
    noLate(),
    select(
      (w: WindowResult<number>) => w,
      (w) => String(w.windowStart),
    ),
    keyedProcess<WindowResult<number>, HotItem>({
      process: (r, ctx) => {
        const s = ctx.state(hottest);
        const h = s.value();
        const w = r.value;
        const auction = Number(w.key);
        if (h === undefined) {
          s.update({ max: w.result, auctions: [auction] });
          ctx.timers.registerEventTime(w.windowEnd - 1);
        } else if (w.result > h.max) {
          s.update({ max: w.result, auctions: [auction] });
        } else if (w.result === h.max) {
          h.auctions.push(auction);
          s.update(h);
        }
      },
      onTimer: (t, ctx) => {
        const s = ctx.state(hottest);
        const h = s.value();
        s.clear();
        if (h === undefined) return;
        const windowStart = Number(ctx.key);
        return h.auctions.map((auction) =>
          record({
            key: ctx.key,
            value: { auction, num: h.max, windowStart },
            timestamp: t,
          }),
        );
      },
    }),
  );

export const Q7_SIZE_MS = 10_000;

interface MaxBids {
  max: number;
  bids: Bid[];
}

/** Keeps the highest price of a window and every bid at that price. */
const maxBids: Aggregate<Bid, MaxBids, MaxBids> = {
  create: () => ({ max: -Infinity, bids: [] }),
  add: (acc, b) => {
    if (b.price > acc.max) {
      acc.max = b.price;
      acc.bids = [b];
    } else if (b.price === acc.max) acc.bids.push(b);
    return acc;
  },
  result: (acc) => acc,
};

/** A row of q7: a bid with the highest price of its 10 s tumbling window. */
export interface HighestBid {
  readonly auction: number;
  readonly price: number;
  readonly bidder: number;
  readonly dateTime: number;
  readonly extra: string;
}

/**
 * q7, highest bid: the maximum price of each 10 s tumbling window over all bids (one global
 * key), joined back to the window's bids at that price (all ties). The join is folded into
 * the aggregate: it keeps the bids at the running maximum, so no second pass over the bids.
 */
export const q7 = (): NexmarkQuery<HighestBid> => (source) =>
  source.pipe(
    inOrder(),
    select((e: NexmarkEvent) => (e.type === BID ? e : undefined)),
    tumblingWindow({
      sizeMs: Q7_SIZE_MS,
      aggregate: maxBids,
      maxOpenWindows: MAX_OPEN,
    }),
    noLate(),
    keyedProcess<WindowResult<MaxBids>, HighestBid>({
      process: (r) =>
        r.value.result.bids.map((b) =>
          derive(r, {
            auction: b.auction,
            price: b.price,
            bidder: b.bidder,
            dateTime: b.dateTime,
            extra: b.extra,
          }),
        ),
    }),
  );

export const Q8_SIZE_MS = 10_000;

interface NewUser {
  name: string | undefined;
  auctions: number;
}

/** Per person id and window: the person's name if it joined, and the auctions it opened. */
const newUser: Aggregate<string | number, NewUser, NewUser> = {
  create: () => ({ name: undefined, auctions: 0 }),
  add: (acc, v) => {
    if (typeof v === "string") acc.name = v;
    else acc.auctions += 1;
    return acc;
  },
  result: (acc) => acc,
};

/** A row of q8: a person who joined and opened an auction in the same 10 s window. */
export interface NewSeller {
  readonly id: number;
  readonly name: string;
  readonly starttime: number;
}

/**
 * q8, monitor new users: persons and auctions keyed by person id (seller), one 10 s tumbling
 * window over both; a window where the person appeared and opened at least one auction is
 * the equi-join of the two windowed groups of the Flink suite.
 */
export const q8 = (): NexmarkQuery<NewSeller> => (source) =>
  source.pipe(
    inOrder(),
    select(
      (e: NexmarkEvent): string | number | undefined =>
        e.type === PERSON ? e.name : e.type === AUCTION ? 0 : undefined,
      (_, e) => String(e.type === PERSON ? e.id : (e as Auction).seller),
    ),
    tumblingWindow({
      sizeMs: Q8_SIZE_MS,
      aggregate: newUser,
      maxOpenWindows: MAX_OPEN,
    }),
    noLate(),
    select((w: WindowResult<NewUser>): NewSeller | undefined =>
      w.result.name !== undefined && w.result.auctions > 0
        ? { id: Number(w.key), name: w.result.name, starttime: w.windowStart }
        : undefined,
    ),
  );

export const Q11_GAP_MS = 10_000;

/** A row of q11: one bidder's session and its bid count. */
export interface Session {
  readonly bidder: number;
  readonly bidCount: number;
  readonly start: number;
  readonly end: number;
}

/** q11, user sessions: bids per bidder in session windows with a 10 s gap. */
export const q11 = (): NexmarkQuery<Session> => (source) =>
  source.pipe(
    inOrder(),
    select(
      (e: NexmarkEvent) => (e.type === BID ? e.bidder : undefined),
      (bidder) => String(bidder),
    ),
    sessionWindow({
      gapMs: Q11_GAP_MS,
      aggregate: counter<number>(),
      maxOpenWindows: MAX_OPEN,
    }),
    noLate(),
    select((w: WindowResult<number>): Session => ({
      bidder: Number(w.key),
      bidCount: w.result,
      start: w.windowStart,
      end: w.windowEnd,
    })),
  );
