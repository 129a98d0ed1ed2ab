/**
 * The recommendation model of the reviews system: content-based taste profiles, one per user.
 *
 * Why this method: the reviews carry a movie's genres and a user's ratings, and nothing
 * else about taste. A content-based profile gives sensible answers from a user's first
 * reviews — a user who rated several sci-fi films highly gets sci-fi — where collaborative
 * filtering needs many overlapping users before it says anything. The profile is a small
 * ridge regression of the user's centred ratings (rating minus their own mean, which removes
 * harshness or generosity) on genre indicators, so a multi-genre movie's rating is
 * attributed to the right genre. Candidates from the catalogue are ranked by the mean
 * affinity of their genres.
 *
 * Why per user: a user's recommendations are a pure function of that user's own ratings
 * (the latest version of each rated movie) and the catalogue. No rating of another user goes
 * in, so the result does not depend on how the input partitions interleave, on duplicates,
 * on a replay from offset 0, or on which instance holds which partitions; and the state the
 * job must checkpoint is the user's own ratings (keyed state). An earlier version also
 * subtracted each movie's shrunk mean over all users (a movie's "quality"), which needs a
 * model shared by all users and made rows depend on arrival order across partitions.
 * Without it, and with a stronger ridge prior (λ = 4; λ = 1 found 84 %), the favourite genre
 * of generated users with 30+ reviews is found for 97 % (`recommend.test.ts`). What the
 * ranking lacks is a quality or popularity term: movies whose genres fit equally are ordered
 * by id.
 *
 * Every computation iterates in a fixed order (movie id, genre name), so even the floating
 * point results are bit-identical whatever order the ratings arrived in.
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
  /** Event time of this version (`review.updatedAt`), epoch ms. Default 0. */
  readonly updatedAt?: number;
}

/** A recommended movie with its score and a reason a person can read. */
export interface Recommended {
  readonly movieId: number;
  readonly title: string;
  readonly score: number;
  readonly reason: string;
}

/** The latest version of one user's rating of one movie: what a profile is computed from. */
export interface RatedMovie {
  readonly movieId: number;
  readonly reviewId: string;
  readonly version: number;
  readonly rating: number;
  readonly updatedAt: number;
  readonly genres: readonly string[];
}

/** A movie of the catalogue, a candidate for recommendation. */
export interface CatalogMovie {
  readonly movieId: number;
  readonly title: string;
  readonly genres: readonly string[];
}

/** How strongly few ratings are pulled toward neutral (genre affinity): λ of the ridge regression. */
const AFFINITY_PRIOR = 4;

/**
 * True when `a` is a later version than `b`: higher version, then the greater review id
 * (a total order, so the winner does not depend on which arrived first).
 */
export function isNewer(
  a: { readonly version: number; readonly reviewId: string },
  b: { readonly version: number; readonly reviewId: string },
): boolean {
  return (
    a.version > b.version ||
    (a.version === b.version && a.reviewId > b.reviewId)
  );
}

const byMovieId = (a: RatedMovie, b: RatedMovie): number =>
  a.movieId - b.movieId;

/**
 * How much more (positive) or less than their own average a user likes each genre, shrunk
 * toward 0: ridge regression of the centred ratings on genre indicators,
 * w = (XᵀX + λI)⁻¹ Xᵀy over the genres the user has rated.
 *
 * @example
 * ```ts
 * genreAffinity([{ movieId: 1, reviewId: "r1", version: 1, rating: 5, updatedAt: 0, genres: ["Sci-Fi"] }]);
 * ```
 */
export function genreAffinity(
  ratings: Iterable<RatedMovie>,
): Map<string, number> {
  const rated = [...ratings].sort(byMovieId);
  const out = new Map<string, number>();
  if (rated.length === 0) return out;
  let sum = 0;
  for (const r of rated) sum += r.rating;
  const bias = sum / rated.length;
  const genres = [...new Set(rated.flatMap((r) => r.genres))].sort();
  const index = new Map(genres.map((g, i) => [g, i]));
  const n = genres.length;
  const a: number[][] = Array.from({ length: n }, (_, i) =>
    Array.from({ length: n + 1 }, (_, j) => (i === j ? AFFINITY_PRIOR : 0)),
  );
  for (const r of rated) {
    const idx = [...new Set(r.genres)].map((g) => index.get(g)!);
    for (const i of idx) {
      const row = a[i]!;
      for (const j of idx) row[j] = row[j]! + 1;
      row[n] = row[n]! + (r.rating - bias);
    }
  }
  // Gaussian elimination; the matrix is symmetric positive definite (λ > 0), no pivoting needed.
  for (let col = 0; col < n; col++) {
    const pivot = a[col]!;
    for (let r = col + 1; r < n; r++) {
      const row = a[r]!;
      const f = row[col]! / pivot[col]!;
      if (f === 0) continue;
      for (let j = col; j <= n; j++) row[j] = row[j]! - f * pivot[j]!;
    }
  }
  const w = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    const row = a[r]!;
    let v = row[n]!;
    for (let j = r + 1; j < n; j++) v -= row[j]! * w[j]!;
    w[r] = v / row[r]!;
  }
  for (let i = 0; i < n; i++) out.set(genres[i]!, w[i]!);
  return out;
}

/**
 * The `k` movies of the catalogue the user has not rated that best fit their taste, best
 * first (ties by movie id). A pure function of the user's ratings and the catalogue.
 *
 * @example
 * ```ts
 * recommendFor(ratingsOfUser, catalogue, 5); // [{ movieId, title, score, reason }, …]
 * ```
 */
export function recommendFor(
  ratings: Iterable<RatedMovie>,
  catalogue: readonly CatalogMovie[],
  k: number,
): Recommended[] {
  const list = [...ratings];
  const rated = new Set(list.map((r) => r.movieId));
  const affinity = genreAffinity(list);
  const scored: Recommended[] = [];
  for (const m of catalogue) {
    if (rated.has(m.movieId)) continue;
    let best: [string, number] | undefined;
    let fit = 0;
    for (const g of m.genres) {
      const a = affinity.get(g) ?? 0;
      fit += a;
      if (best === undefined || a > best[1] || (a === best[1] && g < best[0]))
        best = [g, a];
    }
    if (m.genres.length > 0) fit /= m.genres.length;
    const reason =
      best !== undefined && best[1] > 0.1
        ? `you rate ${best[0]} films above your average (+${best[1].toFixed(1)})`
        : best !== undefined && best[1] >= -0.1
          ? `${m.genres.join(", ")}: new to your taste`
          : `closest to your taste among what is left`;
    scored.push({
      movieId: m.movieId,
      title: m.title,
      score: Math.round(fit * 1000) / 1000,
      reason,
    });
  }
  scored.sort((a, b) => b.score - a.score || a.movieId - b.movieId);
  return scored.slice(0, k);
}

/**
 * Per-user taste profiles in memory (tests, the demo's summary): keeps the latest version of
 * each (user, movie) rating; a user's recommendations come from {@link recommendFor}.
 *
 * @example
 * ```ts
 * const model = new TasteModel();
 * for (const e of events) model.apply(e);
 * model.recommend(42, 5, catalogue); // [{ movieId, title, score, reason }, …]
 * ```
 */
export class TasteModel {
  private readonly byUser = new Map<number, Map<number, RatedMovie>>();
  private readonly movies = new Map<number, CatalogMovie>();

  /** Makes movies known before anyone rated them (the catalogue), so they can be recommended. */
  addMovies(movies: readonly CatalogMovie[]): void {
    for (const m of movies) this.movies.set(m.movieId, m);
  }

  /** Applies one rating; returns false when it changed nothing (a duplicate or an older version). */
  apply(e: RatingEvent): boolean {
    if (!this.movies.has(e.movieId))
      this.movies.set(e.movieId, {
        movieId: e.movieId,
        title: e.title,
        genres: e.genres,
      });
    let ratings = this.byUser.get(e.userId);
    if (ratings === undefined) {
      ratings = new Map();
      this.byUser.set(e.userId, ratings);
    }
    const previous = ratings.get(e.movieId);
    if (previous !== undefined && !isNewer(e, previous)) return false;
    ratings.set(e.movieId, {
      movieId: e.movieId,
      reviewId: e.reviewId,
      version: e.version,
      rating: e.rating,
      updatedAt: e.updatedAt ?? 0,
      genres: e.genres,
    });
    return true;
  }

  /** The latest rating of each movie the user rated. */
  ratings(userId: number): RatedMovie[] {
    return [...(this.byUser.get(userId)?.values() ?? [])];
  }

  /** See {@link genreAffinity}. */
  genreAffinity(userId: number): Map<string, number> {
    return genreAffinity(this.ratings(userId));
  }

  /** See {@link recommendFor}; candidates are the movies added or rated so far, by id. */
  recommend(
    userId: number,
    k: number,
    catalogue: readonly CatalogMovie[] = [...this.movies.values()].sort(
      (a, b) => a.movieId - b.movieId,
    ),
  ): Recommended[] {
    return recommendFor(this.ratings(userId), catalogue, k);
  }
}
