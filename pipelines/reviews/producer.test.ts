import { VirtualTimeScheduler } from "rxjs";
import { describe, expect, it } from "vitest";
import { createCodec } from "../../avro/index.js";
import { generateCatalog } from "./catalog.js";
import {
  arrivalRate,
  generateReviews,
  reviewArrivals,
  take,
  type ProducedReview,
} from "./producer.js";
import { GENRES, type Movie, type Review, type User } from "./types.js";
import { checkReview } from "./validate.js";

const DAY_MS = 86_400_000;
const START = Date.UTC(2024, 0, 1);
const catalog = generateCatalog({ movies: 300, users: 1000, seed: 11 });

/** Reviews produced within the first `days` of event time. */
function firstDays(days: number, ratePerSecond: number): ProducedReview[] {
  const out: ProducedReview[] = [];
  for (const p of generateReviews({ catalog, seed: 11, ratePerSecond })) {
    if (p.at.getTime() >= START + days * DAY_MS) break;
    out.push(p);
  }
  return out;
}

const week = firstDays(7, 0.05); // ≈ 30 000 reviews
const created = week.filter((p) => p.kind === "created");

function shareOfTop<K>(keys: readonly K[], topShare: number): number {
  const counts = new Map<K, number>();
  for (const k of keys) counts.set(k, (counts.get(k) ?? 0) + 1);
  const sorted = [...counts.values()].sort((a, b) => b - a);
  const top = sorted.slice(0, Math.ceil(sorted.length * topShare));
  return top.reduce((a, b) => a + b, 0) / keys.length;
}

describe("generateCatalog", () => {
  it("repeats exactly with the same seed and differs with another", () => {
    const again = generateCatalog({ movies: 300, users: 1000, seed: 11 });
    expect(again.movies).toEqual(catalog.movies);
    expect(again.users).toEqual(catalog.users);
    expect(
      generateCatalog({ movies: 300, users: 1000, seed: 12 }).movies,
    ).not.toEqual(catalog.movies);
  });

  it("numbers movies and users from 1 and gives each known genres", () => {
    expect(catalog.movies.map((m) => m.movieId)).toEqual(
      Array.from({ length: 300 }, (_, i) => i + 1),
    );
    expect(catalog.users.map((u) => u.userId)).toEqual(
      Array.from({ length: 1000 }, (_, i) => i + 1),
    );
    const known = new Set<string>(GENRES);
    for (const m of catalog.movies) {
      expect(m.genres.length).toBeGreaterThanOrEqual(1);
      expect(m.genres.every((g) => known.has(g))).toBe(true);
    }
    for (const u of catalog.users) {
      expect(u.favoriteGenres.length).toBeGreaterThanOrEqual(1);
      const taste = catalog.tastes.get(u.userId)!;
      expect(taste.dislikes.some((g) => taste.favorites.includes(g))).toBe(
        false,
      );
    }
    expect(new Set(catalog.movies.map((m) => m.title)).size).toBe(300);
  });

  it("encodes with the Avro Movie and User schemas", () => {
    const movies = createCodec<Movie>("dev.sluice.reviews.Movie");
    const users = createCodec<User>("dev.sluice.reviews.User");
    for (const m of catalog.movies.slice(0, 50))
      expect(movies.decode(movies.encode(m))).toEqual(m);
    for (const u of catalog.users.slice(0, 50))
      expect(users.decode(users.encode(u))).toEqual(u);
  });

  it("rejects a catalogue without movies, naming the field", () => {
    expect(() => generateCatalog({ movies: 0 })).toThrow(
      "reviews.catalog.movies",
    );
  });
});

describe("generateReviews", () => {
  it("repeats exactly with the same seed", () => {
    const a = take(generateReviews({ catalog, seed: 5 }), 300);
    const b = take(generateReviews({ catalog, seed: 5 }), 300);
    const c = take(generateReviews({ catalog, seed: 6 }), 300);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  it("gives only valid reviews, rated 0.5 to 5 in half steps, in event-time order", () => {
    const bad = week.filter(
      (p, i) =>
        p.kind === "malformed" ||
        !checkReview(p.review).ok ||
        !Number.isInteger(p.review.rating * 2) ||
        (i > 0 && p.at.getTime() < week[i - 1]!.at.getTime()),
    );
    expect(bad).toEqual([]);
  });

  it("encodes with the Avro Review schema", () => {
    const codec = createCodec<Review>("dev.sluice.reviews.Review");
    for (const p of week.slice(0, 100))
      expect(codec.decode(codec.encode(p.review))).toEqual(p.review);
  });

  it("arrives at the configured mean rate", () => {
    const perSecond = week.length / (7 * 86_400);
    expect(perSecond).toBeGreaterThan(0.05 * 0.95);
    expect(perSecond).toBeLessThan(0.05 * 1.05);
  });

  it("follows the daily cycle: the evening peak is much busier than the morning trough", () => {
    const hour = (p: ProducedReview) => p.at.getUTCHours();
    const peak = week.filter((p) => hour(p) >= 18 && hour(p) < 22).length;
    const trough = week.filter((p) => hour(p) >= 6 && hour(p) < 10).length;
    expect(peak / trough).toBeGreaterThan(2.5);
    expect(
      arrivalRate(Date.UTC(2024, 0, 1, 20), { ratePerSecond: 5 }),
    ).toBeCloseTo(8);
    expect(
      arrivalRate(Date.UTC(2024, 0, 1, 8), { ratePerSecond: 5 }),
    ).toBeCloseTo(2);
  });

  it("draws gaps that look exponential at a flat rate (coefficient of variation near 1)", () => {
    const flat = take(
      generateReviews({
        catalog,
        seed: 3,
        dailyAmplitude: 0,
        ratePerSecond: 1,
      }),
      5000,
    );
    const gaps = flat
      .slice(1)
      .map((p, i) => p.at.getTime() - flat[i]!.at.getTime());
    const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length;
    const sd = Math.sqrt(
      gaps.reduce((a, g) => a + (g - mean) ** 2, 0) / gaps.length,
    );
    expect(mean).toBeGreaterThan(900);
    expect(mean).toBeLessThan(1100);
    expect(sd / mean).toBeGreaterThan(0.9);
    expect(sd / mean).toBeLessThan(1.1);
  });

  it("skews movie popularity like Zipf: the top 10 % of movies get three times their uniform share", () => {
    expect(
      shareOfTop(
        created.map((p) => p.review.movieId),
        0.1,
      ),
    ).toBeGreaterThan(0.3);
    const rank1 = [...catalog.traits.values()].find(
      (t) => t.popularityRank === 1,
    )!.movieId;
    const rank100 = [...catalog.traits.values()].find(
      (t) => t.popularityRank === 100,
    )!.movieId;
    const count = (id: number) =>
      created.filter((p) => p.review.movieId === id).length;
    expect(count(rank1)).toBeGreaterThan(5 * count(rank100));
  });

  it("has long-tailed user activity: the top 10 % of users write a third or more", () => {
    expect(
      shareOfTop(
        week.map((p) => p.review.userId),
        0.1,
      ),
    ).toBeGreaterThan(0.3);
  });

  it("rates favourite genres well above disliked ones", () => {
    const favorite: number[] = [];
    const disliked: number[] = [];
    for (const { review } of created) {
      const taste = catalog.tastes.get(review.userId)!;
      const genres = catalog.movies[review.movieId - 1]!.genres;
      const likes = genres.some((g) =>
        (taste.favorites as readonly string[]).includes(g),
      );
      const hates = genres.some((g) =>
        (taste.dislikes as readonly string[]).includes(g),
      );
      if (likes && !hates) favorite.push(review.rating);
      if (hates && !likes) disliked.push(review.rating);
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(favorite.length).toBeGreaterThan(1000);
    expect(disliked.length).toBeGreaterThan(100);
    expect(mean(favorite) - mean(disliked)).toBeGreaterThan(1.5);
  });

  it("turns a second review of the same movie by the same user into the next version", () => {
    const updated = week.filter((p) => p.kind === "updated");
    expect(updated.length).toBeGreaterThan(0);
    const byId = new Map<string, Review>();
    for (const { kind, review } of week) {
      const before = byId.get(review.reviewId);
      if (kind === "updated") {
        expect(before).toBeDefined();
        expect(review.version).toBe(before!.version + 1);
        expect(review.createdAt).toEqual(before!.createdAt);
        expect([review.userId, review.movieId]).toEqual([
          before!.userId,
          before!.movieId,
        ]);
      } else expect(before).toBeUndefined();
      byId.set(review.reviewId, review);
    }
  });

  it("makes the requested share malformed, each failing validation on the named field", () => {
    const produced = take(
      generateReviews({ catalog, seed: 9, malformedShare: 0.2 }),
      2000,
    );
    const bad = produced.filter((p) => p.kind === "malformed");
    expect(bad.length / produced.length).toBeGreaterThan(0.15);
    expect(bad.length / produced.length).toBeLessThan(0.25);
    for (const p of bad) {
      if (p.kind !== "malformed") continue;
      const checked = checkReview(p.review);
      expect(checked.ok).toBe(false);
      if (!checked.ok) expect(checked.error.context.field).toBe(p.defect.field);
    }
    expect(
      new Set(bad.map((p) => (p.kind === "malformed" ? p.defect.reason : "")))
        .size,
    ).toBeGreaterThan(4);
  });

  it("rejects bad options naming the field", () => {
    expect(() => generateReviews({ ratePerSecond: 0 }).next()).toThrow(
      "reviews.producer.ratePerSecond",
    );
    expect(() => generateReviews({ malformedShare: 2 }).next()).toThrow(
      "reviews.producer.malformedShare",
    );
  });
});

describe("reviewArrivals", () => {
  it("emits each review at its event-time gap divided by speedup, then completes", () => {
    const scheduler = new VirtualTimeScheduler();
    const seen: { at: number; p: ProducedReview }[] = [];
    let completed = false;
    const sub = reviewArrivals(
      { catalog, seed: 2, count: 20, speedup: 10, startMs: START },
      scheduler,
    ).subscribe({
      next: (p) => seen.push({ at: scheduler.now(), p }),
      complete: () => (completed = true),
    });
    scheduler.flush();
    sub.unsubscribe();
    expect(completed).toBe(true);
    expect(seen.map((s) => s.p)).toEqual(
      take(generateReviews({ catalog, seed: 2, startMs: START }), 20),
    );
    for (const { at, p } of seen)
      expect(at).toBeCloseTo((p.at.getTime() - START) / 10, 0);
  });

  it("stops emitting on unsubscribe", () => {
    const scheduler = new VirtualTimeScheduler();
    const seen: ProducedReview[] = [];
    const sub = reviewArrivals(
      { catalog, seed: 2, speedup: 1 },
      scheduler,
    ).subscribe((p) => {
      seen.push(p);
      if (seen.length === 3) sub.unsubscribe();
    });
    scheduler.flush();
    expect(seen).toHaveLength(3);
  });

  it("completes at once when count is 0", () => {
    let completed = false;
    reviewArrivals({ catalog, count: 0 })
      .subscribe({ complete: () => (completed = true) })
      .unsubscribe();
    expect(completed).toBe(true);
  });
});
