import { filter, map, type OperatorFunction, type SchedulerLike } from "rxjs";
import { isRecord } from "../../operators/element.js";
import { keyedProcess } from "../../operators/keyed-process.js";
import { mapState } from "../../operators/keyed-state.js";
import { memoryStateBackend } from "../../operators/memory-state-backend.js";
import { derive, type Record } from "../../operators/record.js";
import type { StateBackend } from "../../operators/state-backend.js";
import type { EnrichedReview } from "./enrichment.js";
import {
  isNewer,
  recommendFor,
  type CatalogMovie,
  type RatedMovie,
  type Recommended,
  type TasteModel,
} from "./recommend.js";

/** The recommendations of one user (the per-user table, C.1.2): a pure function of their ratings. */
export interface UserRecommendations {
  readonly kind: "recommendations";
  readonly userId: number;
  readonly displayName: string;
  readonly recommendations: readonly Recommended[];
  readonly modelVersion: string;
  /** Event time of the newest rating these recommendations reflect (not the wall clock). */
  readonly generatedAt: number;
  /** The newest review these recommendations reflect. */
  readonly triggeredBy: string;
  /** The review whose arrival produced this update (end-to-end latency; not stored). */
  readonly cause: string;
}

/**
 * Ratings of one movie in one event-time window, as counted by one input partition (the
 * per-movie stats over time). State is partitioned like the input (by user), so each
 * partition holds its own part of a movie's window; the analytics view sums the parts.
 */
export interface MovieRatingStats {
  readonly kind: "movie-stats";
  readonly movieId: number;
  readonly title: string;
  readonly windowStart: number;
  readonly windowEnd: number;
  /** The input partition whose part this is; -1 for a sum over every partition. */
  readonly partition: number;
  readonly reviews: number;
  readonly ratingSum: number;
  readonly meanRating: number;
  /** Count of ratings 0.5, 1, …, 5 (ten buckets). */
  readonly histogram: readonly number[];
}

export type RecommendationOutput = UserRecommendations | MovieRatingStats;

export interface RecommendationOptions {
  /**
   * Where the keyed state lives (each user's ratings, each partition's per-movie window
   * counts). Register it with the source (`ctx.addSource(source, { state })`) so the runtime
   * checkpoints it with the offsets. Default: a fresh memory backend.
   */
  readonly backend?: StateBackend;
  /** The movie catalogue: the candidates for recommendation. */
  readonly catalog?: readonly CatalogMovie[];
  /** Recommendations kept per user. Default 10. */
  readonly topK?: number;
  /** Event-time window of the per-movie stats. Default 1 hour. */
  readonly statsWindowMs?: number;
  /**
   * How long a per-movie window stays in state after its last update (processing time). A
   * review of that window arriving later starts its count again. Default 30 days.
   */
  readonly statsRetentionMs?: number;
  /** Sees every rating that changed a user's state (the demo's summary); not the job's state. */
  readonly mirror?: TasteModel;
  /** Processing-time clock (state TTLs). Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
}

export const MODEL_VERSION = "genre-affinity-v2";

/** One user's rating of one movie, as kept in keyed state (JSON). */
interface StoredRating {
  /** Latest version: review id, version, rating, updatedAt. */
  readonly r: string;
  readonly v: number;
  readonly x: number;
  readonly t: number;
  readonly g: readonly string[];
  /** The user's display name as enriched with this version. */
  readonly d: string;
  /** Every `reviewId@version` seen for this movie: a repeat is a duplicate. */
  readonly s: readonly string[];
}

/** One partition's part of one movie's window (JSON). */
interface StoredWindow {
  readonly n: string;
  readonly c: number;
  readonly s: number;
  readonly h: readonly number[];
}

const RATINGS = mapState<StoredRating>("reviews.user-ratings");
const MOVIE_WINDOWS = "reviews.movie-windows";

const bucketOf = (rating: number): number =>
  Math.min(9, Math.max(0, Math.round(rating * 2) - 1));

/**
 * Sums per-partition stats into one row per (movie, window), as the analytics view does.
 *
 * @example
 * ```ts
 * combineStats(latestPartsByKey.values()); // [{ movieId, windowStart, reviews, … , partition: -1 }]
 * ```
 */
export function combineStats(
  parts: Iterable<MovieRatingStats>,
): MovieRatingStats[] {
  const out = new Map<string, MovieRatingStats>();
  for (const p of parts) {
    const key = `${p.movieId}/${p.windowStart}`;
    const a = out.get(key);
    const reviews = (a?.reviews ?? 0) + p.reviews;
    const ratingSum = (a?.ratingSum ?? 0) + p.ratingSum;
    out.set(key, {
      ...p,
      partition: -1,
      title: a === undefined || p.title < a.title ? p.title : a.title,
      reviews,
      ratingSum,
      meanRating: Math.round((ratingSum / reviews) * 100) / 100,
      histogram: p.histogram.map((n, i) => n + (a?.histogram[i] ?? 0)),
    });
  }
  return [...out.values()].sort(
    (a, b) => a.movieId - b.movieId || a.windowStart - b.windowStart,
  );
}

/**
 * The recommendation job (seed C.1.2): enriched reviews → (a) the user's recommendations and
 * (b) per-movie rating statistics in event-time tumbling windows, both from keyed state.
 *
 * Per user (the state key), the state keeps the latest version of each rated movie and the
 * `reviewId@version`s seen. A review version seen before is a duplicate: acked, no output.
 * Any other changes the state and emits the user's row — {@link recommendFor} over the
 * state and the catalogue, stamped with the newest rating's event time and id, so the row
 * is a pure function of the set of reviews, whatever their order — and this partition's
 * part of the movie's window (count, sum, histogram of every distinct review version
 * whose `updatedAt` falls in it). Both outputs carry the input's acknowledgement; nothing is
 * held between records, so a checkpoint barrier drains at once and a restart from a
 * checkpoint resumes with exactly the state the offsets say. Late reviews update their
 * window's part as long as it is retained (`statsRetentionMs`).
 *
 * @example
 * ```ts
 * const state = memoryStateBackend();
 * const source = ctx.addSource(kafkaSource(…), { state });
 * source.records().pipe(recommend({ backend: state, catalog, topK: 10 }), writeTo(sink));
 * ```
 */
export function recommend(
  options: RecommendationOptions = {},
): OperatorFunction<Record<EnrichedReview>, Record<RecommendationOutput>> {
  const backend = options.backend ?? memoryStateBackend();
  const catalog = [...(options.catalog ?? [])].sort(
    (a, b) => a.movieId - b.movieId,
  );
  const titles = new Map(catalog.map((m) => [m.movieId, m.title]));
  const topK = options.topK ?? 10;
  const windowMs = options.statsWindowMs ?? 3_600_000;
  const retentionMs = options.statsRetentionMs ?? 30 * 86_400_000;
  const mirror = options.mirror;

  const process = keyedProcess<EnrichedReview, RecommendationOutput>({
    backend,
    ...(options.scheduler !== undefined
      ? { scheduler: options.scheduler }
      : {}),
    process: (r, ctx) => {
      const e = r.value;
      const movieKey = String(e.movie.movieId);
      const updatedAt = e.review.updatedAt.getTime();
      const ratings = ctx.state(RATINGS);
      const previous = ratings.get(movieKey);
      const seenAs = `${e.review.reviewId}@${e.review.version}`;
      if (previous?.s.includes(seenAs) === true) return; // a duplicate: acked
      const incoming = {
        reviewId: e.review.reviewId,
        version: e.review.version,
      };
      const latest =
        previous === undefined ||
        isNewer(incoming, { reviewId: previous.r, version: previous.v });
      ratings.put(movieKey, {
        ...(latest
          ? {
              r: e.review.reviewId,
              v: e.review.version,
              x: e.review.rating,
              t: updatedAt,
              g: e.movie.genres,
              d: e.user.displayName,
            }
          : previous),
        s: [...(previous?.s ?? []), seenAs].sort(),
      });
      if (latest)
        mirror?.apply({
          reviewId: e.review.reviewId,
          version: e.review.version,
          userId: e.user.userId,
          movieId: e.movie.movieId,
          title: e.movie.title,
          genres: e.movie.genres,
          rating: e.review.rating,
          updatedAt,
        });

      // The user's row, from the state alone.
      const rated: RatedMovie[] = [];
      let newest: StoredRating | undefined;
      for (const [movieId, s] of ratings.entries()) {
        rated.push({
          movieId: Number(movieId),
          reviewId: s.r,
          version: s.v,
          rating: s.x,
          updatedAt: s.t,
          genres: s.g,
        });
        if (
          newest === undefined ||
          s.t > newest.t ||
          (s.t === newest.t && s.r > newest.r)
        )
          newest = s;
      }
      const row: UserRecommendations = {
        kind: "recommendations",
        userId: e.user.userId,
        displayName: newest!.d,
        recommendations: recommendFor(rated, catalog, topK),
        modelVersion: MODEL_VERSION,
        generatedAt: newest!.t,
        triggeredBy: newest!.r,
        cause: e.review.reviewId,
      };

      // This partition's part of the movie's window: every distinct review version counts once.
      const windowStart = Math.floor(updatedAt / windowMs) * windowMs;
      const movieStateKey = `movie:${movieKey}`;
      const before = backend.getMapEntry(
        ctx.partition,
        MOVIE_WINDOWS,
        movieStateKey,
        String(windowStart),
        ctx.now(),
      ) as StoredWindow | undefined;
      const histogram = [...(before?.h ?? new Array<number>(10).fill(0))];
      const bucket = bucketOf(e.review.rating);
      histogram[bucket] = (histogram[bucket] ?? 0) + 1;
      const title = titles.get(e.movie.movieId) ?? e.movie.title;
      const part: StoredWindow = {
        n: before === undefined || title < before.n ? title : before.n,
        c: (before?.c ?? 0) + 1,
        s: (before?.s ?? 0) + e.review.rating,
        h: histogram,
      };
      backend.setMapEntry(
        ctx.partition,
        MOVIE_WINDOWS,
        movieStateKey,
        String(windowStart),
        part,
        ctx.now() + retentionMs,
      );
      const stats: MovieRatingStats = {
        kind: "movie-stats",
        movieId: e.movie.movieId,
        title: part.n,
        windowStart,
        windowEnd: windowStart + windowMs,
        partition: r.origin?.partition ?? 0,
        reviews: part.c,
        ratingSum: part.s,
        meanRating: Math.round((part.s / part.c) * 100) / 100,
        histogram: part.h,
      };
      return [
        derive<EnrichedReview, RecommendationOutput>(r, row, {
          key: String(e.user.userId),
        }),
        derive<EnrichedReview, RecommendationOutput>(r, stats, {
          key: `${e.movie.movieId}/${windowStart}/${stats.partition}`,
          timestamp: updatedAt,
        }),
      ];
    },
  });

  return (source) =>
    source.pipe(
      // State is keyed by user (reviews-enriched is partitioned by user, so a user's state
      // lives in one partition).
      map((r) => derive(r, r.value, { key: `user:${r.value.user.userId}` })),
      process,
      // keyedProcess passes watermarks through; this pipeline has none.
      filter(isRecord),
    );
}
