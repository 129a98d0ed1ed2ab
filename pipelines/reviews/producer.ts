/**
 * The review producer (seed C.1.1): reviews that arrive sporadically, the way people write
 * them. Arrivals are a Poisson process whose rate follows the day (busier in the evening),
 * movies are picked by Zipf popularity (and more often from a user's favourite genres),
 * users by a long-tailed activity, and each rating comes from the user's taste for the
 * movie's genres. README.md ("The review producer") gives the reasons for each choice.
 */
import { Observable, asyncScheduler, type SchedulerLike } from "rxjs";
import {
  expectedRating,
  generateCatalog,
  type Catalog,
  type CatalogOptions,
} from "./catalog.js";
import {
  exponential,
  normal,
  pickOne,
  seededRandom,
  seededUuid,
  weightedPicker,
  zipfWeights,
  type Random,
  type WeightedPicker,
} from "./random.js";
import { GENRES, type Review } from "./types.js";

/** Options of {@link generateReviews}; every field has a default. */
export interface ProducerOptions {
  /** The world to review; default `generateCatalog({ seed })`. */
  readonly catalog?: Catalog;
  /** Options of the generated catalogue when `catalog` is not given. */
  readonly catalogOptions?: CatalogOptions;
  /** Default 1. The same seed (and catalogue) gives the same reviews. */
  readonly seed?: number;
  /** Event time of the first instant, epoch ms. Default 2024-01-01T00:00Z. */
  readonly startMs?: number;
  /** Mean arrivals per second over a day. Default 5. */
  readonly ratePerSecond?: number;
  /** Daily swing of the rate, 0 (flat) … 1 (silent at the trough). Default 0.6. */
  readonly dailyAmplitude?: number;
  /** UTC hour of the daily peak. Default 20. */
  readonly peakHourUtc?: number;
  /** Zipf exponent of movie popularity. Default 1.0. */
  readonly zipfExponent?: number;
  /** Share of picks made among the user's favourite genres. Default 0.5. */
  readonly favoriteGenreShare?: number;
  /** Standard deviation of a rating around the user's expected rating, stars. Default 0.6. */
  readonly ratingNoise?: number;
  /** Share of reviews without text. Default 0.3. */
  readonly noTextShare?: number;
  /** Share of arrivals that revise a recent review (next version, ±½ star). Default 0.05. */
  readonly updateShare?: number;
  /** Share of output made malformed on purpose (dead-letter tests). Default 0. */
  readonly malformedShare?: number;
  /** (user, movie) pairs remembered so a second review of the same movie is an update. Default 100 000. */
  readonly maxTrackedPairs?: number;
}

/** What was wrong with a malformed review, for tests that expect a dead letter. */
export interface Defect {
  /** The bad field, as the validator names it. */
  readonly field: keyof Review;
  readonly reason: string;
}

/** One produced review: new, an update of an earlier one, or deliberately malformed. */
export type ProducedReview =
  | {
      readonly kind: "created" | "updated";
      /** Event time of the arrival. */
      readonly at: Date;
      readonly review: Review;
    }
  | {
      readonly kind: "malformed";
      readonly at: Date;
      readonly review: Review;
      readonly defect: Defect;
    };

const HOUR_MS = 3_600_000;
/** How many recent reviews an update may pick from. */
const RECENT = 1000;
const pairKey = (userId: number, movieId: number): string =>
  `${userId}:${movieId}`;
const DAY_MS = 24 * HOUR_MS;

const TEXTS: readonly (readonly string[])[] = [
  ["A waste of an evening.", "Could not finish it.", "Dull and far too long."],
  [
    "Some good moments, mostly forgettable.",
    "Fine for a rainy day.",
    "Not for me.",
  ],
  [
    "Solid and well made.",
    "Enjoyed it more than I expected.",
    "Good cast, thin story.",
  ],
  ["Loved every minute.", "An instant favourite.", "Will watch it again."],
];

function textFor(rating: number, title: string, random: Random): string {
  const bucket = TEXTS[Math.min(3, Math.floor((rating - 0.5) / 1.25))]!;
  return `${title}: ${pickOne(random, bucket)}`;
}

const roundHalf = (x: number): number =>
  Math.min(5, Math.max(0.5, Math.round(x * 2) / 2));

/**
 * The rate of arrivals at an instant: `ratePerSecond · (1 + A·cos(2π(h − peak)/24))`, whose
 * mean over a day is `ratePerSecond`.
 *
 * @example
 * ```ts
 * arrivalRate(Date.UTC(2024, 0, 1, 20), { ratePerSecond: 5, dailyAmplitude: 0.6 }); // 8 per second at the peak
 * ```
 */
export function arrivalRate(
  atMs: number,
  options: Pick<
    ProducerOptions,
    "ratePerSecond" | "dailyAmplitude" | "peakHourUtc"
  > = {},
): number {
  const rate = options.ratePerSecond ?? 5;
  const amplitude = options.dailyAmplitude ?? 0.6;
  const peak = options.peakHourUtc ?? 20;
  const hour = (((atMs % DAY_MS) + DAY_MS) % DAY_MS) / HOUR_MS;
  return rate * (1 + amplitude * Math.cos((2 * Math.PI * (hour - peak)) / 24));
}

function check(field: string, ok: boolean, rule: string): void {
  if (!ok) throw new RangeError(`reviews.producer.${field} ${rule}`);
}

const MALFORMATIONS: readonly ((r: Review) => readonly [Review, Defect])[] = [
  (r) => [
    { ...r, rating: 7 },
    { field: "rating", reason: "above 5" },
  ],
  (r) => [
    { ...r, rating: 0 },
    { field: "rating", reason: "below 0.5" },
  ],
  (r) => [
    { ...r, rating: 3.3 },
    { field: "rating", reason: "not a half step" },
  ],
  (r) => [
    { ...r, reviewId: "not-a-uuid" },
    { field: "reviewId", reason: "not a UUID" },
  ],
  (r) => [
    { ...r, movieId: -r.movieId },
    { field: "movieId", reason: "negative" },
  ],
  (r) => [
    { ...r, updatedAt: new Date(r.createdAt.getTime() - 1000) },
    { field: "updatedAt", reason: "before createdAt" },
  ],
  (r) => [
    { ...r, version: 0 },
    { field: "version", reason: "below 1" },
  ],
];

/**
 * Generates reviews in event-time order, forever (take as many as you need). Repeatable:
 * the same options give the same reviews.
 *
 * @example
 * ```ts
 * for (const p of take(generateReviews({ seed: 7, ratePerSecond: 10 }), 1000)) await store.put(p.review);
 * ```
 */
export function* generateReviews(
  options: ProducerOptions = {},
): Generator<ProducedReview, never, undefined> {
  const seed = options.seed ?? 1;
  const catalog =
    options.catalog ?? generateCatalog({ seed, ...options.catalogOptions });
  const rate = options.ratePerSecond ?? 5;
  const amplitude = options.dailyAmplitude ?? 0.6;
  const zipf = options.zipfExponent ?? 1.0;
  const favoriteShare = options.favoriteGenreShare ?? 0.5;
  const noise = options.ratingNoise ?? 0.6;
  const noTextShare = options.noTextShare ?? 0.3;
  const malformedShare = options.malformedShare ?? 0;
  const updateShare = options.updateShare ?? 0.05;
  const maxPairs = options.maxTrackedPairs ?? 100_000;
  check(
    "ratePerSecond",
    rate > 0 && Number.isFinite(rate),
    "must be a positive number",
  );
  check(
    "dailyAmplitude",
    amplitude >= 0 && amplitude <= 1,
    "must be between 0 and 1",
  );
  check("zipfExponent", zipf >= 0, "must not be negative");
  for (const [f, v] of [
    ["favoriteGenreShare", favoriteShare],
    ["noTextShare", noTextShare],
    ["malformedShare", malformedShare],
    ["updateShare", updateShare],
  ] as const)
    check(f, v >= 0 && v <= 1, "must be between 0 and 1");
  check(
    "maxTrackedPairs",
    Number.isInteger(maxPairs) && maxPairs >= 0,
    "must be a non-negative integer",
  );
  if (catalog.movies.length === 0 || catalog.users.length === 0)
    throw new RangeError("reviews.producer.catalog needs movies and users");

  const random = seededRandom(seed ^ 0x5eed);
  // Movies ordered by popularity rank; Zipf over that order, globally and per genre.
  const byRank = [...catalog.movies].sort(
    (a, b) =>
      (catalog.traits.get(a.movieId)?.popularityRank ?? a.movieId) -
      (catalog.traits.get(b.movieId)?.popularityRank ?? b.movieId),
  );
  const global = weightedPicker(zipfWeights(byRank.length, zipf));
  const perGenre = new Map<
    string,
    { movies: typeof byRank; pick: WeightedPicker }
  >();
  for (const genre of GENRES) {
    const movies = byRank.filter((m) => m.genres.includes(genre));
    if (movies.length > 0)
      perGenre.set(genre, {
        movies,
        pick: weightedPicker(zipfWeights(movies.length, zipf)),
      });
  }
  const users = catalog.users;
  const pickUser = weightedPicker(
    users.map((u) => catalog.tastes.get(u.userId)?.activity ?? 1),
  );
  /** Latest version by (user, movie), oldest first, bounded by maxTrackedPairs. */
  const reviewed = new Map<string, Review>();
  /** Keys of the last RECENT writes, the pool that updates are drawn from. */
  const recent: string[] = [];
  let recentNext = 0;

  const lambdaMax = rate * (1 + amplitude);
  let now = options.startMs ?? Date.UTC(2024, 0, 1);
  for (;;) {
    // Non-homogeneous Poisson arrivals by thinning (Lewis & Shedler 1979).
    do now += exponential(random, lambdaMax) * 1000;
    while (random() * lambdaMax > arrivalRate(now, options));
    const at = new Date(Math.floor(now));

    let review: Review | undefined;
    let kind: "created" | "updated" = "created";
    if (recent.length > 0 && random() < updateShare) {
      // Second thoughts: a recent review gets a new version, rating moved by half a star.
      const before = reviewed.get(pickOne(random, recent));
      if (before !== undefined) {
        const step = random() < 0.5 ? -0.5 : 0.5;
        review = {
          ...before,
          rating: roundHalf(before.rating + step),
          updatedAt: at,
          version: before.version + 1,
        };
        kind = "updated";
      }
    }
    if (review === undefined) {
      const user = users[pickUser(random)]!;
      const taste = catalog.tastes.get(user.userId);
      // A user reviews a movie once: redraw a few times, then give up and update instead.
      let movie = byRank[0]!;
      for (let attempt = 0; attempt < 8; attempt++) {
        movie = byRank[global(random)]!;
        if (
          taste !== undefined &&
          taste.favorites.length > 0 &&
          random() < favoriteShare
        ) {
          const pool = perGenre.get(pickOne(random, taste.favorites));
          if (pool !== undefined) movie = pool.movies[pool.pick(random)]!;
        }
        if (!reviewed.has(pairKey(user.userId, movie.movieId))) break;
      }
      const traits = catalog.traits.get(movie.movieId);
      const mean =
        taste !== undefined && traits !== undefined
          ? expectedRating(taste, traits, movie.genres)
          : 3.5;
      const rating = roundHalf(mean + noise * normal(random));
      const text =
        random() < noTextShare ? null : textFor(rating, movie.title, random);
      const before = reviewed.get(pairKey(user.userId, movie.movieId));
      if (before === undefined)
        review = {
          reviewId: seededUuid(random),
          movieId: movie.movieId,
          userId: user.userId,
          rating,
          text,
          createdAt: at,
          updatedAt: at,
          version: 1,
        };
      else {
        review = {
          ...before,
          rating,
          text,
          updatedAt: at,
          version: before.version + 1,
        };
        kind = "updated";
      }
    }

    if (malformedShare > 0 && random() < malformedShare) {
      const [bad, defect] = pickOne(random, MALFORMATIONS)(review);
      yield { kind: "malformed", at, review: bad, defect };
      continue;
    }
    const pair = pairKey(review.userId, review.movieId);
    if (maxPairs > 0) {
      reviewed.delete(pair);
      reviewed.set(pair, review);
      if (reviewed.size > maxPairs) {
        const oldest = reviewed.keys().next();
        if (oldest.done !== true) reviewed.delete(oldest.value);
      }
      recent[recentNext] = pair;
      recentNext = (recentNext + 1) % RECENT;
    }
    yield { kind, at, review };
  }
}

/**
 * The first `n` items of an iterable.
 *
 * @example
 * ```ts
 * const reviews = take(generateReviews({ seed: 3 }), 100);
 * ```
 */
export function take<T>(items: Iterable<T>, n: number): T[] {
  const out: T[] = [];
  if (n <= 0) return out;
  for (const item of items) {
    out.push(item);
    if (out.length >= n) break;
  }
  return out;
}

/** Options of {@link reviewArrivals}. */
export interface ArrivalOptions extends ProducerOptions {
  /** Stop after this many reviews; default: never. */
  readonly count?: number;
  /** Event time runs this many times faster than the scheduler's clock. Default 1. */
  readonly speedup?: number;
}

/**
 * Emits produced reviews when they arrive: the gap between two emissions is their event-time
 * gap divided by `speedup`, measured on the given scheduler (virtual time in tests).
 *
 * @example
 * ```ts
 * reviewArrivals({ seed: 1, ratePerSecond: 2, speedup: 60 }).pipe(concatMap((p) => store.put(p.review))).subscribe();
 * ```
 */
export function reviewArrivals(
  options: ArrivalOptions = {},
  scheduler: SchedulerLike = asyncScheduler,
): Observable<ProducedReview> {
  const speedup = options.speedup ?? 1;
  check(
    "speedup",
    speedup > 0 && Number.isFinite(speedup),
    "must be a positive number",
  );
  const count = options.count ?? Number.POSITIVE_INFINITY;
  return new Observable<ProducedReview>((subscriber) => {
    if (count <= 0) {
      subscriber.complete();
      return;
    }
    const source = generateReviews(options);
    let emitted = 0;
    let previousMs = options.startMs ?? Date.UTC(2024, 0, 1);
    let pending = source.next().value;
    const delayOf = (p: ProducedReview): number => {
      const delay = Math.max(0, (p.at.getTime() - previousMs) / speedup);
      previousMs = p.at.getTime();
      return delay;
    };
    // One action rescheduled after each emission, so a long run holds no growing state.
    return scheduler.schedule(function () {
      subscriber.next(pending);
      if (++emitted >= count) {
        subscriber.complete();
        return;
      }
      pending = source.next().value;
      this.schedule(undefined, delayOf(pending));
    }, delayOf(pending));
  });
}
