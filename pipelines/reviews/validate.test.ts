import { describe, expect, it } from "vitest";
import { SluiceError } from "../../operators/sluice-error.js";
import {
  FIXTURE_MALFORMED,
  FIXTURE_MOVIES,
  FIXTURE_REVIEWS,
  FIXTURE_UPDATE,
  FIXTURE_USERS,
} from "./fixtures.js";
import type { Review } from "./types.js";
import { checkReview, validateReview } from "./validate.js";

const good = FIXTURE_REVIEWS[0]!;

describe("checkReview", () => {
  it("accepts every fixture review and the update", () => {
    for (const r of [...FIXTURE_REVIEWS, FIXTURE_UPDATE])
      expect(checkReview(r)).toEqual({ ok: true, review: r });
  });

  it.each<[string, Partial<Record<keyof Review, unknown>>, string]>([
    ["a rating above 5", { rating: 6 }, "rating"],
    ["a rating below 0.5", { rating: 0 }, "rating"],
    ["a rating between half steps", { rating: 3.3 }, "rating"],
    ["a rating that is not a number", { rating: "5" }, "rating"],
    ["a review id that is not a UUID", { reviewId: "r-1" }, "reviewId"],
    ["a negative movie id", { movieId: -1 }, "movieId"],
    ["a fractional user id", { userId: 1.5 }, "userId"],
    ["an invalid date", { createdAt: new Date(Number.NaN) }, "createdAt"],
    ["an update time before creation", { updatedAt: new Date(0) }, "updatedAt"],
    ["version 0", { version: 0 }, "version"],
    ["text that is not a string", { text: 42 }, "text"],
  ])("rejects %s, naming the field", (_, change, field) => {
    const r = checkReview({ ...good, ...change });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error).toBeInstanceOf(SluiceError);
    expect(r.error.code).toBe("VALIDATE");
    expect(r.error.context).toMatchObject({ field, stage: "validate" });
    expect(r.error.message).toMatch(new RegExp(`^review\\.${field} `));
  });

  it("rejects a missing field and something that is not an object", () => {
    const { movieId: _, ...noMovie } = good;
    expect(checkReview(noMovie)).toMatchObject({
      ok: false,
      error: { context: { field: "movieId" } },
    });
    expect(checkReview(null).ok).toBe(false);
  });

  it("never prints the review text", () => {
    const r = checkReview({ ...good, text: "secret words", rating: 9 });
    expect(r.ok || r.error.message.includes("secret")).toBe(false);
  });

  it("throws from validateReview, names the review as key", () => {
    expect(() => validateReview(FIXTURE_MALFORMED)).toThrow(
      "review.rating must be at most 5",
    );
    try {
      validateReview(FIXTURE_MALFORMED);
    } catch (e) {
      expect((e as SluiceError).context.key).toBe(FIXTURE_MALFORMED.reviewId);
    }
  });
});

describe("fixtures", () => {
  it("give every user high ratings in favourite genres and low ones elsewhere", () => {
    const latest = new Map(FIXTURE_REVIEWS.map((r) => [r.reviewId, r]));
    latest.set(FIXTURE_UPDATE.reviewId, FIXTURE_UPDATE);
    for (const r of latest.values()) {
      const user = FIXTURE_USERS.find((u) => u.userId === r.userId)!;
      const movie = FIXTURE_MOVIES.find((m) => m.movieId === r.movieId)!;
      const liked = movie.genres.some((g) => user.favoriteGenres.includes(g));
      if (liked) expect(r.rating).toBeGreaterThanOrEqual(4);
      else expect(r.rating).toBeLessThanOrEqual(2.5);
    }
  });

  it("have unique review ids and refer to existing movies and users", () => {
    expect(new Set(FIXTURE_REVIEWS.map((r) => r.reviewId)).size).toBe(12);
    for (const r of FIXTURE_REVIEWS) {
      expect(FIXTURE_MOVIES.some((m) => m.movieId === r.movieId)).toBe(true);
      expect(FIXTURE_USERS.some((u) => u.userId === r.userId)).toBe(true);
    }
  });
});
