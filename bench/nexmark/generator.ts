/**
 * The Nexmark event generator of the Flink Nexmark suite (nexmark/nexmark
 * `nexmark-flink/.../generator`), ported to TypeScript with a seeded PRNG so runs repeat.
 *
 * Event `n` is a person when `n % 50 == 0`, an auction when `n % 50` is 1..3, a bid
 * otherwise (1:3:46). Ids, hot sellers (3/4), hot auctions (1/2), hot bidders (3/4), prices,
 * categories, channels and auction expiry follow `GeneratorConfig`, `PersonGenerator`,
 * `AuctionGenerator` and `BidGenerator`. Event time is
 * `baseTime + floor(n · 1e6 / eventsPerSec) / 1000` ms (one generator, in order,
 * `outOfOrderGroupSize = 1`).
 *
 * Deviations, on purpose: a different PRNG (mulberry32, seeded) instead of an unseeded
 * `SplittableRandom`; `FIRST_PERSON_ID` is added to a bidder once, not twice as in Flink's
 * `BidGenerator`; random strings are slices of one seeded pool of random letters instead of
 * fresh per-character draws (same lengths and sizes, a fraction of the cost).
 */

export const PERSON = 0;
export const AUCTION = 1;
export const BID = 2;

export interface Person {
  readonly type: typeof PERSON;
  readonly id: number;
  readonly name: string;
  readonly emailAddress: string;
  readonly creditCard: string;
  readonly city: string;
  readonly state: string;
  readonly dateTime: number;
  readonly extra: string;
}

export interface Auction {
  readonly type: typeof AUCTION;
  readonly id: number;
  readonly itemName: string;
  readonly description: string;
  readonly initialBid: number;
  readonly reserve: number;
  readonly dateTime: number;
  readonly expires: number;
  readonly seller: number;
  readonly category: number;
  readonly extra: string;
}

export interface Bid {
  readonly type: typeof BID;
  readonly auction: number;
  readonly bidder: number;
  readonly price: number;
  readonly channel: string;
  readonly url: string;
  readonly dateTime: number;
  readonly extra: string;
}

/** One Nexmark event: tell them apart by `type` (0 person, 1 auction, 2 bid). */
export type NexmarkEvent = Person | Auction | Bid;

export interface GeneratorOptions {
  /** PRNG seed: the same seed gives the same events. */
  readonly seed: number;
  /** Events per second of event time (Flink's `firstEventRate` / TPS). */
  readonly eventsPerSec: number;
  /** Event time of event 0, epoch ms. */
  readonly baseTimeMs: number;
}

export const defaultGeneratorOptions: GeneratorOptions = {
  seed: 42,
  // 100 k events per second of event time: a 10 s window holds 1 M events, so a run of a few
  // million events closes several q7/q8 windows and dozens of q5 windows.
  eventsPerSec: 100_000,
  baseTimeMs: 1_700_000_000_000,
};

const PERSON_PROPORTION = 1;
const AUCTION_PROPORTION = 3;
const TOTAL_PROPORTION = 50;
const FIRST_PERSON_ID = 1000;
const FIRST_AUCTION_ID = 1000;
const FIRST_CATEGORY_ID = 10;
const NUM_CATEGORIES = 5;
const HOT_SELLERS_RATIO = 4;
const HOT_AUCTION_RATIO = 2;
const HOT_BIDDERS_RATIO = 4;
const HOT_CHANNELS_RATIO = 2;
const HOT_ID_RATIO = 100;
const NUM_ACTIVE_PEOPLE = 1000;
const PERSON_ID_LEAD = 10;
const NUM_IN_FLIGHT_AUCTIONS = 100;
const AUCTION_ID_LEAD = 10;
const AVG_PERSON_BYTES = 200;
const AVG_AUCTION_BYTES = 500;
const AVG_BID_BYTES = 100;
const CHANNELS = 10_000;

const FIRST_NAMES = [
  "Peter",
  "Paul",
  "Luke",
  "John",
  "Saul",
  "Vicky",
  "Kate",
  "Julie",
  "Sarah",
  "Deiter",
  "Walter",
];
const LAST_NAMES = [
  "Shultz",
  "Abrams",
  "Spencer",
  "White",
  "Bartels",
  "Walton",
  "Smith",
  "Jones",
  "Noris",
];
const CITIES = [
  "Phoenix",
  "Los Angeles",
  "San Francisco",
  "Boise",
  "Portland",
  "Bend",
  "Redmond",
  "Seattle",
  "Kent",
  "Cheyenne",
];
const STATES = ["AZ", "CA", "ID", "OR", "WA", "WY"];
const HOT_CHANNELS = ["Google", "Facebook", "Baidu", "Apple"];
const POOL_SIZE = 1 << 16;

/** `lastBase0PersonId` of `GeneratorConfig`: the newest person id at event `n`. */
export function lastBase0PersonId(n: number): number {
  return Math.floor(n / TOTAL_PROPORTION);
}

/** `lastBase0AuctionId` of `GeneratorConfig`: the newest auction id at event `n`. */
export function lastBase0AuctionId(n: number): number {
  let epoch = Math.floor(n / TOTAL_PROPORTION);
  let offset = n % TOTAL_PROPORTION;
  if (offset < PERSON_PROPORTION) {
    epoch -= 1;
    offset = AUCTION_PROPORTION - 1;
  } else if (offset >= PERSON_PROPORTION + AUCTION_PROPORTION) {
    offset = AUCTION_PROPORTION - 1;
  } else offset -= PERSON_PROPORTION;
  return epoch * AUCTION_PROPORTION + offset;
}

/**
 * A seeded, deterministic Nexmark event stream: `next()` returns event 0, 1, 2, …
 *
 * @example
 * ```ts
 * const gen = new NexmarkGenerator({ ...defaultGeneratorOptions, seed: 7 });
 * for (let i = 0; i < 1_000; i++) handle(gen.next());
 * ```
 */
export class NexmarkGenerator {
  private n = 0;
  private state: number;
  private readonly interEventDelayUs: number;
  private readonly baseTime: number;
  private readonly pool: string;
  private readonly channelCache: ([string, string] | undefined)[] = new Array<
    [string, string] | undefined
  >(CHANNELS);
  private readonly hotUrls: string[];

  constructor(options: GeneratorOptions = defaultGeneratorOptions) {
    this.state = options.seed >>> 0;
    this.interEventDelayUs = 1e6 / options.eventsPerSec;
    this.baseTime = options.baseTimeMs;
    const chars = new Array<string>(POOL_SIZE);
    for (let i = 0; i < POOL_SIZE; i++)
      chars[i] = String.fromCharCode(97 + this.int(26));
    this.pool = chars.join("");
    this.hotUrls = HOT_CHANNELS.map(() => this.baseUrl());
  }

  /** Events generated so far (the number of the next event). */
  get count(): number {
    return this.n;
  }

  /** A float in [0, 1): mulberry32. */
  private random(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [0, bound). */
  private int(bound: number): number {
    return Math.floor(this.random() * bound);
  }

  /** `length` random letters. */
  private exact(length: number): string {
    const start = this.int(POOL_SIZE - length);
    return this.pool.substring(start, start + length);
  }

  /** `nextString(maxLength)`: 3..maxLength letters. */
  private string(maxLength: number): string {
    return this.exact(3 + this.int(maxLength - 2));
  }

  /** `nextExtra`: pads a record of `current` bytes to about `average`. */
  private extra(current: number, average: number): string {
    if (current > average) return "";
    const avg = average - current;
    const delta = Math.floor(avg / 5);
    return this.exact(avg - delta + this.int(2 * delta + 1));
  }

  private price(): number {
    return Math.round(Math.pow(10, this.random() * 6) * 100);
  }

  private baseUrl(): string {
    return `https://www.nexmark.com/${this.exact(5)}/${this.exact(5)}/${this.exact(5)}/item.htm?query=1`;
  }

  private timestamp(n: number): number {
    return this.baseTime + Math.floor((n * this.interEventDelayUs) / 1000);
  }

  /** `nextBase0PersonId`: a random active person, a few ids ahead allowed. */
  private nextBase0PersonId(n: number): number {
    const numPeople = lastBase0PersonId(n) + 1;
    const active = Math.min(numPeople, NUM_ACTIVE_PEOPLE);
    return numPeople - active + this.int(active + PERSON_ID_LEAD);
  }

  /** `nextBase0AuctionId`: a random in-flight auction, a few ids ahead allowed. */
  private nextBase0AuctionId(n: number): number {
    const max = lastBase0AuctionId(n);
    const min = Math.max(max - NUM_IN_FLIGHT_AUCTIONS, 0);
    return min + this.int(max - min + 1 + AUCTION_ID_LEAD);
  }

  /** The next event. */
  next(): NexmarkEvent {
    const n = this.n++;
    const ts = this.timestamp(n);
    const rem = n % TOTAL_PROPORTION;
    if (rem < PERSON_PROPORTION) return this.person(n, ts);
    if (rem < PERSON_PROPORTION + AUCTION_PROPORTION)
      return this.auction(n, ts);
    return this.bid(n, ts);
  }

  private person(n: number, ts: number): Person {
    const name = `${FIRST_NAMES[this.int(FIRST_NAMES.length)]!} ${LAST_NAMES[this.int(LAST_NAMES.length)]!}`;
    const emailAddress = `${this.exact(7)}@${this.exact(5)}.com`;
    const creditCard = `${this.digits()} ${this.digits()} ${this.digits()} ${this.digits()}`;
    const city = CITIES[this.int(CITIES.length)]!;
    const state = STATES[this.int(STATES.length)]!;
    const size =
      8 + name.length + emailAddress.length + creditCard.length + 8 + 8 + 8;
    return {
      type: PERSON,
      id: lastBase0PersonId(n) + FIRST_PERSON_ID,
      name,
      emailAddress,
      creditCard,
      city,
      state,
      dateTime: ts,
      extra: this.extra(size, AVG_PERSON_BYTES),
    };
  }

  private digits(): string {
    return String(1000 + this.int(9000));
  }

  private auction(n: number, ts: number): Auction {
    const id = lastBase0AuctionId(n) + FIRST_AUCTION_ID;
    const seller =
      (this.int(HOT_SELLERS_RATIO) > 0
        ? Math.floor(lastBase0PersonId(n) / HOT_ID_RATIO) * HOT_ID_RATIO
        : this.nextBase0PersonId(n)) + FIRST_PERSON_ID;
    const category = FIRST_CATEGORY_ID + this.int(NUM_CATEGORIES);
    const initialBid = this.price();
    const itemName = this.string(20);
    const description = this.string(100);
    const reserve = initialBid + this.price();
    // nextAuctionLengthMs: up to twice the event time of the next numInFlightAuctions auctions
    const eventsForAuctions = Math.floor(
      (NUM_IN_FLIGHT_AUCTIONS * TOTAL_PROPORTION) / AUCTION_PROPORTION,
    );
    const horizon = this.timestamp(n + eventsForAuctions) - ts;
    const expires = ts + 1 + this.int(Math.max(horizon * 2, 1));
    const size = 8 + itemName.length + description.length + 8 + 8 + 8 + 8 + 8;
    return {
      type: AUCTION,
      id,
      itemName,
      description,
      initialBid,
      reserve,
      dateTime: ts,
      expires,
      seller,
      category,
      extra: this.extra(size, AVG_AUCTION_BYTES),
    };
  }

  private bid(n: number, ts: number): Bid {
    const auction =
      (this.int(HOT_AUCTION_RATIO) > 0
        ? Math.floor(lastBase0AuctionId(n) / HOT_ID_RATIO) * HOT_ID_RATIO
        : this.nextBase0AuctionId(n)) + FIRST_AUCTION_ID;
    const bidder =
      (this.int(HOT_BIDDERS_RATIO) > 0
        ? Math.floor(lastBase0PersonId(n) / HOT_ID_RATIO) * HOT_ID_RATIO + 1
        : this.nextBase0PersonId(n)) + FIRST_PERSON_ID;
    const price = this.price();
    let channel: string;
    let url: string;
    if (this.int(HOT_CHANNELS_RATIO) > 0) {
      const i = this.int(HOT_CHANNELS.length);
      channel = HOT_CHANNELS[i]!;
      url = this.hotUrls[i]!;
    } else {
      const i = this.int(CHANNELS);
      let cached = this.channelCache[i];
      if (cached === undefined) {
        const base = this.baseUrl();
        cached = [
          `channel-${i}`,
          this.int(10) > 0
            ? `${base}&channel_id=${String(i).split("").reverse().join("")}`
            : base,
        ];
        this.channelCache[i] = cached;
      }
      [channel, url] = cached;
    }
    const size = 8 + 8 + 8 + 8;
    return {
      type: BID,
      auction,
      bidder,
      price,
      channel,
      url,
      dateTime: ts,
      extra: this.extra(size, AVG_BID_BYTES),
    };
  }
}

/** The first `count` events of a generator with these options, in an array (for tests). */
export function generate(
  count: number,
  options: GeneratorOptions = defaultGeneratorOptions,
): NexmarkEvent[] {
  const gen = new NexmarkGenerator(options);
  const out = new Array<NexmarkEvent>(count);
  for (let i = 0; i < count; i++) out[i] = gen.next();
  return out;
}
