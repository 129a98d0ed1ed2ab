import type { OperatorFunction } from "rxjs";
import type { Element } from "../../operators/element.js";
import { keyedProcess } from "../../operators/keyed-process.js";
import { valueState } from "../../operators/keyed-state.js";
import type { Record } from "../../operators/record.js";
import { derive, record } from "../../operators/record.js";
import type { Auction, Bid, NexmarkEvent, Person } from "./generator.js";
import { AUCTION, BID, PERSON } from "./generator.js";
import type { NexmarkQuery } from "./common.js";
import { select } from "./common.js";
import { withWatermarks } from "../../operators/with-watermarks.js";

const withInOrderWatermarks = () =>
  withWatermarks<NexmarkEvent>({ maxOutOfOrdernessMs: 0 });

/** A row of q3. */
export interface LocalItem {
  readonly name: string;
  readonly city: string;
  readonly state: string;
  readonly id: number;
}

export const Q3_STATES: ReadonlySet<string> = new Set(["OR", "ID", "CA"]);
export const Q3_CATEGORY = 10;

interface Seller {
  readonly name: string;
  readonly city: string;
  readonly state: string;
}

const q3Seller = valueState<Seller>("q3-seller");
const q3Waiting = valueState<number[]>("q3-waiting-auctions");

/**
 * q3, local item suggestion: auctions of category 10 joined with their sellers living in OR,
 * ID or CA. An unbounded incremental join keyed by person id: a seller's details stay in
 * state; an auction whose seller has not appeared yet (the generator may point a few ids
 * ahead) waits in state until it does.
 */
export const q3 = (): NexmarkQuery<LocalItem> => (source) =>
  source.pipe(
    select(
      (e: NexmarkEvent): Person | Auction | undefined =>
        (e.type === PERSON && Q3_STATES.has(e.state)) ||
        (e.type === AUCTION && e.category === Q3_CATEGORY)
          ? e
          : undefined,
      (e) => String(e.type === PERSON ? e.id : e.seller),
    ),
    keyedProcess<Person | Auction, LocalItem>({
      process: (r, ctx) => {
        const e = r.value;
        if (e.type === PERSON) {
          const seller = { name: e.name, city: e.city, state: e.state };
          ctx.state(q3Seller).update(seller);
          const waiting = ctx.state(q3Waiting);
          const ids = waiting.value();
          if (ids === undefined) return;
          waiting.clear();
          return ids.map((id) => derive(r, { ...seller, id }));
        }
        const seller = ctx.state(q3Seller).value();
        if (seller !== undefined) return derive(r, { ...seller, id: e.id });
        const waiting = ctx.state(q3Waiting);
        waiting.update([...(waiting.value() ?? []), e.id]);
        return undefined;
      },
    }),
  );

/** The winning bid of a closed auction (q9's row; q4 averages its price per category). */
export interface WinningBid {
  readonly auction: number;
  readonly category: number;
  readonly bidder: number;
  readonly price: number;
  readonly dateTime: number;
}

interface Open {
  readonly id: number;
  readonly category: number;
  readonly dateTime: number;
  readonly expires: number;
  best: Bid | undefined;
}

interface Early {
  readonly dateTime: number;
  best: Bid;
}

const openAuction = valueState<Open>("winning-open-auction");
const earlyBids = valueState<Early>("winning-early-bids");

/**
 * Per auction, the bid with the highest price (ties: the earliest) among its bids with
 * `A.dateTime <= B.dateTime <= A.expires`, emitted when the watermark passes `expires`.
 * Keyed by auction id; an event-time timer at `expires` closes the auction and clears its
 * state. Nexmark auction ids ascend, so a bid for an id above the highest seen is for an
 * auction still to come (the generator points up to 10 ids ahead): the best of those at the
 * newest timestamp waits, as only a bid at the auction's own timestamp can count.
 */
function winningBids(): OperatorFunction<
  Record<NexmarkEvent>,
  Element<WinningBid>
> {
  let highestAuction = -1;
  return (source) =>
    source.pipe(
      withInOrderWatermarks(),
      select(
        (e: NexmarkEvent): Auction | Bid | undefined =>
          e.type === PERSON ? undefined : e,
        (e) => String(e.type === BID ? e.auction : e.id),
      ),
      keyedProcess<Auction | Bid, WinningBid>({
        process: (r, ctx) => {
          const e = r.value;
          if (e.type === AUCTION) {
            if (e.id > highestAuction) highestAuction = e.id;
            const early = ctx.state(earlyBids);
            const waiting = early.value();
            if (waiting !== undefined) early.clear();
            ctx.state(openAuction).update({
              id: e.id,
              category: e.category,
              dateTime: e.dateTime,
              expires: e.expires,
              best:
                waiting !== undefined && waiting.dateTime === e.dateTime
                  ? waiting.best
                  : undefined,
            });
            ctx.timers.registerEventTime(e.expires);
            return;
          }
          const state = ctx.state(openAuction);
          const open = state.value();
          if (open !== undefined) {
            if (
              e.dateTime >= open.dateTime &&
              e.dateTime <= open.expires &&
              (open.best === undefined || e.price > open.best.price)
            ) {
              open.best = e;
              state.update(open);
            }
          } else if (e.auction > highestAuction) {
            const early = ctx.state(earlyBids);
            const waiting = early.value();
            if (waiting === undefined || e.dateTime > waiting.dateTime)
              early.update({ dateTime: e.dateTime, best: e });
            else if (e.price > waiting.best.price) {
              waiting.best = e;
              early.update(waiting);
            }
          }
        },
        onTimer: (t, ctx): Record<WinningBid> | undefined => {
          const state = ctx.state(openAuction);
          const open = state.value();
          state.clear();
          if (open?.best === undefined) return;
          return record({
            key: ctx.key,
            value: {
              auction: open.id,
              category: open.category,
              bidder: open.best.bidder,
              price: open.best.price,
              dateTime: open.best.dateTime,
            },
            timestamp: t,
          });
        },
      }),
    );
}

/** q9, winning bids: per auction, its highest bid while open (ties: the earliest). */
export const q9 = (): NexmarkQuery<WinningBid> => winningBids();

/** A row of q4: the running average winning price of a category. */
export interface CategoryAverage {
  readonly category: number;
  readonly avg: number;
}

interface Sum {
  sum: number;
  count: number;
}

const q4Sum = valueState<Sum>("q4-sum");

/**
 * q4, average price per category: the winning bids of closed auctions (as q9), then per
 * category the running average of their prices; each closed auction emits its category's
 * new average (the changelog of Flink's `AVG(final) GROUP BY category`).
 */
export const q4 = (): NexmarkQuery<CategoryAverage> => (source) =>
  source.pipe(
    winningBids(),
    select(
      (w: WinningBid) => w,
      (w) => String(w.category),
    ),
    keyedProcess<WinningBid, CategoryAverage>({
      process: (r, ctx) => {
        const state = ctx.state(q4Sum);
        const s = state.value() ?? { sum: 0, count: 0 };
        s.sum += r.value.price;
        s.count += 1;
        state.update(s);
        return derive(r, {
          category: r.value.category,
          avg: s.sum / s.count,
        });
      },
    }),
  );
