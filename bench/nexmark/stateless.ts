import type { Bid, NexmarkEvent } from "./generator.js";
import { BID } from "./generator.js";
import type { NexmarkQuery } from "./common.js";
import { select } from "./common.js";

/** A row of q0 and q1: the bid's columns of the Flink suite's SELECT. */
export interface BidRow {
  readonly auction: number;
  readonly bidder: number;
  readonly price: number;
  readonly dateTime: number;
  readonly extra: string;
}

/** A row of q2. */
export interface AuctionPrice {
  readonly auction: number;
  readonly price: number;
}

const bidOf = (e: NexmarkEvent): Bid | undefined =>
  e.type === BID ? e : undefined;

/** q0, pass-through: `SELECT auction, bidder, price, dateTime, extra FROM bid`. */
export const q0 = (): NexmarkQuery<BidRow> =>
  select((e: NexmarkEvent): BidRow | undefined =>
    e.type === BID
      ? {
          auction: e.auction,
          bidder: e.bidder,
          price: e.price,
          dateTime: e.dateTime,
          extra: e.extra,
        }
      : undefined,
  );

/** Dollars to euros, as q1 (the Flink suite's `0.908 * price`). */
export const toEuro = (price: number): number => 0.908 * price;

/** q1, currency conversion: q0's columns with `price := 0.908 · price`. */
export const q1 = (): NexmarkQuery<BidRow> =>
  select((e: NexmarkEvent): BidRow | undefined =>
    e.type === BID
      ? {
          auction: e.auction,
          bidder: e.bidder,
          price: toEuro(e.price),
          dateTime: e.dateTime,
          extra: e.extra,
        }
      : undefined,
  );

/** q2, selection: `SELECT auction, price FROM bid WHERE auction % 123 = 0`. */
export const q2 = (): NexmarkQuery<AuctionPrice> =>
  select((e: NexmarkEvent): AuctionPrice | undefined => {
    const b = bidOf(e);
    return b !== undefined && b.auction % 123 === 0
      ? { auction: b.auction, price: b.price }
      : undefined;
  });
