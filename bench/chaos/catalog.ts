// The suite's own catalogue and review generator, shared by the reviews scenarios. Nothing
// here comes from pipelines/reviews: movies, users and reviews are drawn from a seed.
import { createHash } from "node:crypto";
import { prng } from "./plan.js";
import type { ScenarioContext } from "./scenario.js";

const GENRES = [
  "Action",
  "Comedy",
  "Drama",
  "Horror",
  "Romance",
  "Sci-Fi",
  "Thriller",
  "Animation",
];
export const MOVIES = 150;
export const USERS = 400;
/** Event time advances this much per new review: ~120 reviews per 1-hour window. */
export const STEP_MS = 30_000;
export const START = Date.UTC(2026, 10, 1);
export const WINDOW_MS = 3_600_000;

export interface EnrichedReview {
  metadata: {
    eventId: string;
    occurredAt: Date;
    producer: string;
    correlationId: string | null;
  };
  review: {
    reviewId: string;
    movieId: number;
    userId: number;
    rating: number;
    text: string | null;
    createdAt: Date;
    updatedAt: Date;
    version: number;
  };
  movie: {
    movieId: number;
    title: string;
    releaseYear: number | null;
    genres: string[];
    updatedAt: Date;
  };
  user: {
    userId: number;
    displayName: string;
    country: string | null;
    favoriteGenres: string[];
    createdAt: Date;
  };
  enrichedAt: Date;
}

/** A UUID-shaped id from a seeded stream (stable per seed and index). */
export function uuidOf(seed: number, n: number, tag: string): string {
  const h = createHash("sha256").update(`${tag}:${seed}:${n}`).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export function movieOf(id: number) {
  const r = prng(id * 7919);
  const g1 = GENRES[Math.floor(r() * GENRES.length)]!;
  const g2 = GENRES[Math.floor(r() * GENRES.length)]!;
  return {
    movieId: id,
    title: `Chaos Movie ${id}`,
    releaseYear: 1980 + (id % 45),
    genres: g1 === g2 ? [g1] : [g1, g2],
    updatedAt: new Date(START - 86_400_000),
  };
}

export function userOf(id: number) {
  return {
    userId: id,
    displayName: `user ${id}`,
    country: null,
    favoriteGenres: [GENRES[id % GENRES.length]!],
    createdAt: new Date(START - 86_400_000),
  };
}

/**
 * The movie and user services' tables (pipelines/reviews/migrations/001, 002), created if
 * missing and filled with the suite's catalogue (a non-empty table is never seeded by
 * reviews-catalog).
 */
export async function prepareCatalog(ctx: ScenarioContext): Promise<void> {
  await ctx.pg.query("CREATE SCHEMA IF NOT EXISTS reviews_catalog");
  await ctx.pg.query(`CREATE TABLE IF NOT EXISTS reviews_catalog.movies (
    movie_id bigint PRIMARY KEY, title text NOT NULL, release_year integer,
    genres text[] NOT NULL, updated_at timestamptz NOT NULL)`);
  await ctx.pg.query(`CREATE TABLE IF NOT EXISTS reviews_catalog.users (
    user_id bigint PRIMARY KEY, display_name text NOT NULL, country text,
    favorite_genres text[] NOT NULL, created_at timestamptz NOT NULL)`);
  for (let id = 1; id <= MOVIES; id++) {
    const m = movieOf(id);
    await ctx.pg.query(
      `INSERT INTO reviews_catalog.movies VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
      [m.movieId, m.title, m.releaseYear, m.genres, m.updatedAt],
    );
  }
  for (let id = 1; id <= USERS; id++) {
    const u = userOf(id);
    await ctx.pg.query(
      `INSERT INTO reviews_catalog.users VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
      [u.userId, u.displayName, u.country, u.favoriteGenres, u.createdAt],
    );
  }
}

/** Draws reviews: new ones, 5 % updates of an earlier one (version + 1, later updatedAt). */
export function reviewDrawer(seed: number): {
  next(n: number): EnrichedReview["review"];
  readonly r: () => number;
} {
  const r = prng(seed ^ 0x5eed);
  const reviews: EnrichedReview["review"][] = [];
  let clock = START;
  return {
    r,
    next(n: number) {
      clock += STEP_MS;
      if (r() < 0.05 && reviews.length > 0) {
        const k = Math.floor(r() * reviews.length);
        const prev = reviews[k]!;
        const review = {
          ...prev,
          rating: Math.max(
            0.5,
            Math.min(5, prev.rating + (r() < 0.5 ? -0.5 : 0.5)),
          ),
          version: prev.version + 1,
          updatedAt: new Date(Math.max(clock, prev.updatedAt.getTime() + 1)),
        };
        reviews[k] = review;
        return review;
      }
      const review = {
        reviewId: uuidOf(seed, n, "review"),
        movieId: 1 + Math.floor(r() * MOVIES),
        userId: 1 + Math.floor(r() * USERS),
        rating: 0.5 + Math.floor(r() * 10) * 0.5,
        text: null,
        createdAt: new Date(clock),
        updatedAt: new Date(clock),
        version: 1,
      };
      reviews.push(review);
      return review;
    },
  };
}
