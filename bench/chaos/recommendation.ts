// reviews-recommendation under chaos. Input: EnrichedReview records on reviews-enriched, made
// by the suite's own generator (not pipelines/reviews/producer.ts). Expected: per movie and
// 1-hour window of updatedAt, the number of distinct reviewId@version the topic holds (plain
// arithmetic over the topic read back from offset 0), and per user the newest updatedAt.
// Got: analytics.movie_rating_stats and analytics.user_recommendations, read with SQL.
import { createHash } from "node:crypto";
import { createCodec } from "../../avro/index.js";
import { prng } from "./plan.js";
import type { Scenario, ScenarioContext, Verdict } from "./scenario.js";

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
const MOVIES = 150;
const USERS = 400;
/** Event time advances this much per new review: ~120 reviews per 1-hour window. */
const STEP_MS = 30_000;
const START = Date.UTC(2026, 10, 1);
const WINDOW_MS = 3_600_000;

interface EnrichedReview {
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
function uuidOf(seed: number, n: number, tag: string): string {
  const h = createHash("sha256").update(`${tag}:${seed}:${n}`).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function movieOf(id: number) {
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

function userOf(id: number) {
  return {
    userId: id,
    displayName: `user ${id}`,
    country: null,
    favoriteGenres: [GENRES[id % GENRES.length]!],
    createdAt: new Date(START - 86_400_000),
  };
}

export function recommendationScenario(): Scenario {
  const codec = createCodec<EnrichedReview>(
    "dev.sluice.reviews.EnrichedReview",
  );
  // Generator state: reviews so far (for updates), sent events (for re-sends).
  const reviews: EnrichedReview["review"][] = [];
  const sent: { key: string; value: Buffer }[] = [];
  let clock = START;
  let n = 0;
  let r: () => number = Math.random;

  return {
    job: "reviews-recommendation",
    services: ["memcached", "postgres", "kafka", "cassandra"],
    inputTopic: "reviews-enriched",
    group: "reviews-recommendation",
    partitions: 4,
    env: {},

    async prepare(ctx: ScenarioContext) {
      r = prng(ctx.seed ^ 0x5eed);
      await ctx.pg.query("CREATE SCHEMA IF NOT EXISTS reviews_catalog");
      // The movie service's table (pipelines/reviews/migrations/001), filled by the suite.
      await ctx.pg.query(`CREATE TABLE IF NOT EXISTS reviews_catalog.movies (
        movie_id bigint PRIMARY KEY, title text NOT NULL, release_year integer,
        genres text[] NOT NULL, updated_at timestamptz NOT NULL)`);
      for (let id = 1; id <= MOVIES; id++) {
        const m = movieOf(id);
        await ctx.pg.query(
          `INSERT INTO reviews_catalog.movies VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
          [m.movieId, m.title, m.releaseYear, m.genres, m.updatedAt],
        );
      }
      await ctx.kafka.createTopic("reviews-enriched", 4);
    },

    async produce(ctx: ScenarioContext, count: number) {
      const batch: { key: string; value: Buffer }[] = [];
      for (let k = 0; k < count; k++) {
        const roll = r();
        if (roll < 0.03 && sent.length > 0) {
          // The same event again (same event id): at-least-once upstream.
          batch.push(sent[Math.floor(r() * sent.length)]!);
          continue;
        }
        let review: EnrichedReview["review"];
        if (roll < 0.08 && reviews.length > 0) {
          const prev = reviews[Math.floor(r() * reviews.length)]!;
          clock += STEP_MS;
          review = {
            ...prev,
            rating: Math.max(
              0.5,
              Math.min(5, prev.rating + (r() < 0.5 ? -0.5 : 0.5)),
            ),
            version: prev.version + 1,
            updatedAt: new Date(Math.max(clock, prev.updatedAt.getTime() + 1)),
          };
          reviews[reviews.indexOf(prev)] = review;
        } else {
          clock += STEP_MS;
          const userId = 1 + Math.floor(r() * USERS);
          review = {
            reviewId: uuidOf(ctx.seed, n, "review"),
            movieId: 1 + Math.floor(r() * MOVIES),
            userId,
            rating: 0.5 + Math.floor(r() * 10) * 0.5,
            text: null,
            createdAt: new Date(clock),
            updatedAt: new Date(clock),
            version: 1,
          };
          reviews.push(review);
        }
        const event: EnrichedReview = {
          metadata: {
            eventId: uuidOf(ctx.seed, n, "event"),
            occurredAt: review.updatedAt,
            producer: "sluice-chaos",
            correlationId: null,
          },
          review,
          movie: movieOf(review.movieId),
          user: userOf(review.userId),
          enrichedAt: review.updatedAt,
        };
        n++;
        const m = { key: String(review.userId), value: codec.encode(event) };
        sent.push(m);
        batch.push(m);
      }
      await ctx.kafka.produce("reviews-enriched", batch);
    },

    async check(ctx: ScenarioContext): Promise<Verdict> {
      const input = await ctx.kafka.readAll("reviews-enriched");
      // Expected, from the topic alone: distinct reviewId@version per (movie, window).
      const versions = new Map<string, { movie: number; window: number }>();
      const newest = new Map<number, number>();
      for (const m of input) {
        const e = codec.decode(m.value);
        const t = e.review.updatedAt.getTime();
        versions.set(`${e.review.reviewId}@${e.review.version}`, {
          movie: e.review.movieId,
          window: Math.floor(t / WINDOW_MS) * WINDOW_MS,
        });
        newest.set(
          e.review.userId,
          Math.max(newest.get(e.review.userId) ?? 0, t),
        );
      }
      const want = new Map<string, number>();
      for (const v of versions.values()) {
        const k = `${v.movie}/${v.window}`;
        want.set(k, (want.get(k) ?? 0) + 1);
      }
      const { rows } = await ctx.pg.query<{
        movie_id: string;
        ws: string;
        reviews: number;
      }>(
        `SELECT movie_id::text, (extract(epoch FROM window_start) * 1000)::bigint::text AS ws, reviews
           FROM analytics.movie_rating_stats`,
      );
      const got = new Map(
        rows.map((x) => [`${x.movie_id}/${x.ws}`, x.reviews]),
      );
      let lost = 0;
      let doubled = 0;
      const examples: string[] = [];
      for (const k of new Set([...want.keys(), ...got.keys()])) {
        const w = want.get(k) ?? 0;
        const g = got.get(k) ?? 0;
        if (g < w) lost += w - g;
        if (g > w) doubled += g - w;
        if (g !== w && examples.length < 5)
          examples.push(
            `movie/window ${k}: expected ${w} review versions, got ${g}`,
          );
      }
      const { rows: users } = await ctx.pg.query<{
        user_id: string;
        g: string;
      }>(
        `SELECT user_id::text, (extract(epoch FROM generated_at) * 1000)::bigint::text AS g
           FROM analytics.user_recommendations`,
      );
      const gotUsers = new Map(
        users.map((u) => [Number(u.user_id), Number(u.g)]),
      );
      let wrong = 0;
      for (const [u, t] of newest) {
        if (gotUsers.get(u) !== t) {
          wrong++;
          if (examples.length < 8)
            examples.push(
              `user ${u}: row generated_at ${String(gotUsers.get(u) ?? "missing")}, newest review ${t}`,
            );
        }
      }
      const expected = versions.size;
      const gotTotal = [...got.values()].reduce((a, b) => a + b, 0);
      return { expected, got: gotTotal, lost, doubled, wrong, examples };
    },
  };
}
