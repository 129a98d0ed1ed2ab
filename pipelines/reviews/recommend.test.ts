import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { TasteModel, type RatingEvent } from "./recommend.js";

const MOVIES = [
  { movieId: 1, title: "Alien", genres: ["sci-fi", "horror"] },
  { movieId: 2, title: "Blade Runner", genres: ["sci-fi"] },
  { movieId: 3, title: "Arrival", genres: ["sci-fi", "drama"] },
  { movieId: 4, title: "Interstellar", genres: ["sci-fi", "drama"] },
  { movieId: 5, title: "Notting Hill", genres: ["romance", "comedy"] },
  { movieId: 6, title: "Love Actually", genres: ["romance", "comedy"] },
  { movieId: 7, title: "The Notebook", genres: ["romance", "drama"] },
  { movieId: 8, title: "Dune", genres: ["sci-fi"] },
] as const;

let n = 0;
const rate = (
  userId: number,
  movieId: number,
  rating: number,
  version = 1,
): RatingEvent => {
  const m = MOVIES.find((x) => x.movieId === movieId)!;
  return {
    reviewId: `r-${userId}-${movieId}-${n++}`,
    version,
    userId,
    movieId,
    title: m.title,
    genres: m.genres,
    rating,
  };
};

/** A small hand-checked dataset: Ada loves sci-fi and dislikes romance; Bo the reverse. */
function fixture(): RatingEvent[] {
  return [
    rate(1, 1, 5),
    rate(1, 2, 4.5),
    rate(1, 3, 5),
    rate(1, 5, 1.5),
    rate(2, 5, 5),
    rate(2, 6, 4.5),
    rate(2, 1, 1),
    rate(2, 2, 2),
    // others make every movie known and give them average ratings
    rate(3, 4, 4),
    rate(3, 7, 4),
    rate(3, 8, 4),
    rate(4, 4, 4),
    rate(4, 7, 4),
    rate(4, 8, 4),
  ];
}

describe("TasteModel", () => {
  it("recommends sci-fi to a user who rated several sci-fi films highly", () => {
    const model = new TasteModel();
    for (const e of fixture()) model.apply(e);
    const recs = model.recommend(1, 3).map((r) => r.title);
    expect(recs.slice(0, 2).sort()).toEqual(["Dune", "Interstellar"]);
    expect(recs).not.toContain("Alien"); // already rated
  });

  it("recommends romance to a user who rated romance highly and sci-fi low", () => {
    const model = new TasteModel();
    for (const e of fixture()) model.apply(e);
    const recs = model.recommend(2, 2);
    expect(recs[0]!.title).toBe("The Notebook");
    expect(recs[0]!.reason).toMatch(/romance/);
  });

  it("ignores a duplicate and an older version of a review", () => {
    const model = new TasteModel();
    const first = rate(1, 1, 5, 2);
    expect(model.apply(first)).toBe(true);
    expect(model.apply(first)).toBe(false);
    expect(
      model.apply({ ...first, version: 1, reviewId: "older", rating: 1 }),
    ).toBe(false);
    expect(model.ratings(1).map((r) => r.rating)).toEqual([5]);
  });

  it("replaces a user's earlier rating of a movie by a newer version", () => {
    const model = new TasteModel();
    model.apply(rate(1, 1, 5, 1));
    model.apply(rate(1, 1, 2, 2));
    expect(model.ratings(1).map((r) => r.rating)).toEqual([2]);
  });

  it("gives the same recommendations whatever the order, with duplicates and a replay", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 13 }), { maxLength: 30 }),
        fc.integer(),
        (dupes, seed) => {
          const events = fixture();
          const clean = new TasteModel();
          for (const e of events) clean.apply(e);
          // Another interleaving: a seeded shuffle, duplicates mixed in, then a replay.
          const noisy = new TasteModel();
          const shuffled = [...events, ...dupes.map((i) => events[i]!)];
          let x = seed | 0;
          for (let i = shuffled.length - 1; i > 0; i--) {
            x = (Math.imul(x, 1103515245) + 12345) | 0;
            const j = (x >>> 0) % (i + 1);
            [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
          }
          for (const e of shuffled) noisy.apply(e);
          for (const e of events) noisy.apply(e); // a replay from offset 0
          for (const user of [1, 2, 3, 4])
            expect(noisy.recommend(user, 5)).toEqual(clean.recommend(user, 5));
        },
      ),
    );
  });
});

describe("TasteModel on generated reviews", () => {
  it("learns each active user's favourite genres from their ratings", async () => {
    const { generateCatalog } = await import("./catalog.js");
    const { generateReviews } = await import("./producer.js");
    const catalog = generateCatalog({ movies: 300, users: 300, seed: 5 });
    const movies = new Map(catalog.movies.map((m) => [m.movieId, m]));
    const model = new TasteModel();
    const perUser = new Map<number, number>();
    let i = 0;
    for (const p of generateReviews({ catalog, seed: 5 })) {
      if (i++ >= 20_000) break;
      if (p.kind === "malformed") continue;
      const m = movies.get(p.review.movieId)!;
      model.apply({
        reviewId: p.review.reviewId,
        version: p.review.version,
        userId: p.review.userId,
        movieId: m.movieId,
        title: m.title,
        genres: m.genres,
        rating: p.review.rating,
      });
      perUser.set(p.review.userId, (perUser.get(p.review.userId) ?? 0) + 1);
    }
    const active = catalog.users.filter(
      (u) => (perUser.get(u.userId) ?? 0) >= 30,
    );
    const hits = active.filter((u) => {
      const top = [...model.genreAffinity(u.userId)].sort(
        (a, b) => b[1] - a[1],
      )[0]?.[0];
      return top !== undefined && u.favoriteGenres.includes(top);
    });
    expect(active.length).toBeGreaterThan(50);
    expect(hits.length / active.length).toBeGreaterThan(0.9);
  });
});
