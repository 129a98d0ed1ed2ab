/**
 * The recommendation model of the reviews system: content-based taste profiles.
 *
 * Why this method: the reviews carry a movie's genres and a user's ratings, and nothing
 * else about taste. A content-based profile (how much above or below their own average a
 * user rates each genre) gives sensible answers from the first few reviews — a user who
 * rated several sci-fi films highly gets sci-fi — where collaborative filtering needs many
 * overlapping users before it says anything, and it is cheap to keep per user in keyed
 * state. Candidates are ranked by the user's affinity to their genres plus the movie's
 * shrunk average rating (a Bayesian average, so one 5-star review does not top the chart;
 * an unrated movie of the catalogue counts as average).
 *
 * The model is idempotent: it keeps the latest rating per (user, movie) by review version,
 * so a duplicate or a replay of the whole topic from offset 0 leaves it unchanged.
 */

/** One rating as the recommendation job sees it (from an enriched review). */
export interface RatingEvent {
  readonly reviewId: string;
  readonly version: number;
  readonly userId: number;
  readonly movieId: number;
  readonly title: string;
  readonly genres: readonly string[];
  /** 0.5 … 5. */
  readonly rating: number;
}

/** A recommended movie with its score and a reason a person can read. */
export interface Recommended {
  readonly movieId: number;
  readonly title: string;
  readonly score: number;
  readonly reason: string;
}

interface UserRating {
  readonly reviewId: string;
  readonly version: number;
  readonly rating: number;
}

interface MovieInfo {
  title: string;
  genres: readonly string[];
  sum: number;
  count: number;
}

/** A JSON-able copy of a model, for checkpoints. */
export interface TasteModelSnapshot {
  readonly ratings: readonly (readonly [
    userId: number,
    movieId: number,
    reviewId: string,
    version: number,
    rating: number,
  ])[];
  readonly movies: readonly (readonly [
    movieId: number,
    title: string,
    genres: readonly string[],
  ])[];
}

/** How strongly few ratings are pulled toward neutral (genre affinity) and the global mean (quality). */
const AFFINITY_PRIOR = 1;
const QUALITY_PRIOR = 3;

/**
 * Per-user taste profiles and per-movie rating statistics.
 *
 * @example
 * ```ts
 * const model = new TasteModel();
 * for (const e of events) model.apply(e);
 * model.recommend(42, 5); // [{ movieId, title, score, reason }, …]
 * ```
 */
export class TasteModel {
  private readonly byUser = new Map<number, Map<number, UserRating>>();
  private readonly movies = new Map<number, MovieInfo>();
  private globalSum = 0;
  private globalCount = 0;

  /** Makes movies known before anyone rated them (the catalogue), so they can be recommended. */
  addMovies(
    movies: readonly {
      readonly movieId: number;
      readonly title: string;
      readonly genres: readonly string[];
    }[],
  ): void {
    for (const m of movies) {
      const known = this.movies.get(m.movieId);
      if (known === undefined)
        this.movies.set(m.movieId, {
          title: m.title,
          genres: m.genres,
          sum: 0,
          count: 0,
        });
      else {
        known.title = m.title;
        known.genres = m.genres;
      }
    }
  }

  /** Applies one rating; returns false when it changed nothing (a duplicate or an older version). */
  apply(e: RatingEvent): boolean {
    let movie = this.movies.get(e.movieId);
    if (movie === undefined) {
      movie = { title: e.title, genres: e.genres, sum: 0, count: 0 };
      this.movies.set(e.movieId, movie);
    } else {
      movie.title = e.title;
      movie.genres = e.genres;
    }
    let ratings = this.byUser.get(e.userId);
    if (ratings === undefined) {
      ratings = new Map();
      this.byUser.set(e.userId, ratings);
    }
    const previous = ratings.get(e.movieId);
    if (previous !== undefined) {
      if (
        previous.version > e.version ||
        (previous.version === e.version && previous.reviewId === e.reviewId)
      )
        return false;
      movie.sum -= previous.rating;
      movie.count -= 1;
      this.globalSum -= previous.rating;
      this.globalCount -= 1;
    }
    ratings.set(e.movieId, {
      reviewId: e.reviewId,
      version: e.version,
      rating: e.rating,
    });
    movie.sum += e.rating;
    movie.count += 1;
    this.globalSum += e.rating;
    this.globalCount += 1;
    return true;
  }

  /** Mean rating of a movie and how many users rated it. */
  movieStats(
    movieId: number,
  ): { readonly mean: number; readonly count: number } | undefined {
    const m = this.movies.get(movieId);
    return m === undefined || m.count === 0
      ? undefined
      : { mean: m.sum / m.count, count: m.count };
  }

  /** How far above (positive) or below their own average a user rates each genre, shrunk toward 0. */
  genreAffinity(userId: number): Map<string, number> {
    const ratings = this.byUser.get(userId);
    const out = new Map<string, number>();
    if (ratings === undefined || ratings.size === 0) return out;
    let sum = 0;
    for (const r of ratings.values()) sum += r.rating;
    const mean = sum / ratings.size;
    const acc = new Map<string, { sum: number; n: number }>();
    for (const [movieId, r] of ratings) {
      for (const g of this.movies.get(movieId)?.genres ?? []) {
        const a = acc.get(g) ?? { sum: 0, n: 0 };
        a.sum += r.rating - mean;
        a.n += 1;
        acc.set(g, a);
      }
    }
    for (const [g, a] of acc) out.set(g, a.sum / (a.n + AFFINITY_PRIOR));
    return out;
  }

  /** The `k` best movies the user has not rated, best first. */
  recommend(userId: number, k: number): Recommended[] {
    const rated = this.byUser.get(userId) ?? new Map<number, UserRating>();
    const affinity = this.genreAffinity(userId);
    const globalMean =
      this.globalCount === 0 ? 3 : this.globalSum / this.globalCount;
    const scored: Recommended[] = [];
    for (const [movieId, m] of this.movies) {
      if (rated.has(movieId)) continue;
      const quality =
        (m.sum + QUALITY_PRIOR * globalMean) / (m.count + QUALITY_PRIOR);
      let best: [string, number] | undefined;
      let fit = 0;
      for (const g of m.genres) {
        const a = affinity.get(g) ?? 0;
        fit += a;
        if (best === undefined || a > best[1]) best = [g, a];
      }
      if (m.genres.length > 0) fit /= m.genres.length;
      const score = quality + 2 * fit;
      const reason =
        best !== undefined && best[1] > 0.1
          ? `you rate ${best[0]} films ${best[1].toFixed(1)} above your average${m.count > 0 ? `; rated ${(m.sum / m.count).toFixed(1)} by ${m.count} users` : ""}`
          : m.count > 0
            ? `rated ${(m.sum / m.count).toFixed(1)} by ${m.count} users`
            : "new in the catalogue";
      scored.push({
        movieId,
        title: m.title,
        score: Math.round(score * 1000) / 1000,
        reason,
      });
    }
    scored.sort((a, b) => b.score - a.score || a.movieId - b.movieId);
    return scored.slice(0, k);
  }

  snapshot(): TasteModelSnapshot {
    const ratings: [number, number, string, number, number][] = [];
    for (const [userId, rs] of this.byUser)
      for (const [movieId, r] of rs)
        ratings.push([userId, movieId, r.reviewId, r.version, r.rating]);
    return {
      ratings,
      movies: [...this.movies].map(
        ([id, m]) => [id, m.title, m.genres] as const,
      ),
    };
  }

  static restore(s: TasteModelSnapshot): TasteModel {
    const model = new TasteModel();
    const movies = new Map(
      s.movies.map(([id, title, genres]) => [id, { title, genres }]),
    );
    for (const [userId, movieId, reviewId, version, rating] of s.ratings) {
      const m = movies.get(movieId);
      model.apply({
        reviewId,
        version,
        userId,
        movieId,
        rating,
        title: m?.title ?? "",
        genres: m?.genres ?? [],
      });
    }
    return model;
  }
}
