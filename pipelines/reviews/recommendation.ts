import {
  connect,
  filter,
  map,
  merge,
  mergeMap,
  of,
  EMPTY,
  type OperatorFunction,
} from "rxjs";
import type { MergeableAggregate } from "../../operators/aggregate.js";
import { isRecord } from "../../operators/element.js";
import { derive, type Record } from "../../operators/record.js";
import { routeLate } from "../../operators/route-late.js";
import { tumblingWindow } from "../../operators/tumbling-window.js";
import { withWatermarks } from "../../operators/with-watermarks.js";
import type { Element } from "../../operators/element.js";
import type { WindowResult } from "../../operators/window-result.js";
import type { EnrichedReview } from "./enrichment.js";
import { TasteModel, type Recommended } from "./recommend.js";

/** The recommendations of one user after a review of theirs (the per-user table, C.1.2). */
export interface UserRecommendations {
  readonly kind: "recommendations";
  readonly userId: number;
  readonly displayName: string;
  readonly recommendations: readonly Recommended[];
  readonly modelVersion: string;
  readonly generatedAt: number;
  /** The review whose arrival produced this update (for end-to-end latency). */
  readonly triggeredBy: string;
}

/** Ratings of one movie in one event-time window (the per-movie stats over time, and Superset's table). */
export interface MovieRatingStats {
  readonly kind: "movie-stats";
  readonly movieId: number;
  readonly title: string;
  readonly windowStart: number;
  readonly windowEnd: number;
  readonly reviews: number;
  readonly meanRating: number;
  /** Count of ratings 0.5, 1, …, 5 (ten buckets). */
  readonly histogram: readonly number[];
}

export type RecommendationOutput = UserRecommendations | MovieRatingStats;

export interface RecommendationOptions {
  /** The taste model (keyed state); a fresh one by default. */
  readonly model?: TasteModel;
  /** The movie catalogue, so movies nobody rated yet can be recommended. */
  readonly catalog?: readonly {
    readonly movieId: number;
    readonly title: string;
    readonly genres: readonly string[];
  }[];
  /** Recommendations kept per user. Default 10. */
  readonly topK?: number;
  /** Event-time window of the per-movie stats. Default 1 hour. */
  readonly statsWindowMs?: number;
  /** How far out of order reviews may arrive. Default 1 minute. */
  readonly maxOutOfOrdernessMs?: number;
  /**
   * After this long without reviews the stats windows close on the wall clock (so the last
   * window of a quiet stream is written, and its reviews acknowledged). Default 10 s.
   */
  readonly idleTimeoutMs?: number;
  readonly now?: () => number;
}

export const MODEL_VERSION = "genre-affinity-v1";

interface StatsAcc {
  title: string;
  count: number;
  sum: number;
  histogram: number[];
}

const statsAggregate: MergeableAggregate<EnrichedReview, StatsAcc, StatsAcc> = {
  create: () => ({
    title: "",
    count: 0,
    sum: 0,
    histogram: new Array<number>(10).fill(0),
  }),
  add: (acc, e) => {
    acc.title = e.movie.title;
    acc.count += 1;
    acc.sum += e.review.rating;
    const bucket = Math.min(
      9,
      Math.max(0, Math.round(e.review.rating * 2) - 1),
    );
    acc.histogram[bucket] = (acc.histogram[bucket] ?? 0) + 1;
    return acc;
  },
  merge: (a, b) => ({
    title: a.title || b.title,
    count: a.count + b.count,
    sum: a.sum + b.sum,
    histogram: a.histogram.map((n, i) => n + (b.histogram[i] ?? 0)),
  }),
  result: (acc) => acc,
};

/**
 * The recommendation job (seed C.1.2): enriched reviews → (a) the user's taste profile and
 * their top recommendations, emitted after every review that changes the profile, and
 * (b) per-movie rating statistics in event-time tumbling windows. A duplicate (same review
 * version) changes no state and is acknowledged without output, so a replay from offset 0
 * changes no result. Late reviews (beyond the window's lateness) still update the taste
 * profile; they are left out of the closed stats window and acked.
 *
 * @example
 * ```ts
 * enriched$.pipe(recommend({ topK: 10 }), writeTo(recommendationsSink, { maxBatch: 200 }));
 * ```
 */
export function recommend(
  options: RecommendationOptions = {},
): OperatorFunction<Record<EnrichedReview>, Record<RecommendationOutput>> {
  const model = options.model ?? new TasteModel();
  if (options.catalog !== undefined) model.addMovies(options.catalog);
  const topK = options.topK ?? 10;
  const windowMs = options.statsWindowMs ?? 3_600_000;
  const now = options.now ?? Date.now;

  const profiles: OperatorFunction<
    Record<EnrichedReview>,
    Record<RecommendationOutput>
  > = mergeMap((r) => {
    const e = r.value;
    const changed = model.apply({
      reviewId: e.review.reviewId,
      version: e.review.version,
      userId: e.user.userId,
      movieId: e.movie.movieId,
      title: e.movie.title,
      genres: e.movie.genres,
      rating: e.review.rating,
    });
    if (!changed) {
      r.ack.ack(); // a duplicate or an older version: dropped on purpose
      return EMPTY;
    }
    const out: UserRecommendations = {
      kind: "recommendations",
      userId: e.user.userId,
      displayName: e.user.displayName,
      recommendations: model.recommend(e.user.userId, topK),
      modelVersion: MODEL_VERSION,
      generatedAt: now(),
      triggeredBy: e.review.reviewId,
    };
    return of(
      derive<EnrichedReview, RecommendationOutput>(r, out, {
        key: String(e.user.userId),
      }),
    );
  });

  const stats: OperatorFunction<
    Record<EnrichedReview>,
    Record<RecommendationOutput>
  > = (source) =>
    source.pipe(
      map((r) =>
        derive(r, r.value, {
          key: String(r.value.movie.movieId),
          timestamp: r.value.review.updatedAt.getTime(),
        }),
      ),
      withWatermarks<EnrichedReview>({
        maxOutOfOrdernessMs: options.maxOutOfOrdernessMs ?? 60_000,
        idleTimeoutMs: options.idleTimeoutMs ?? 10_000,
        allIdle: "advance-with-wall-clock",
      }),
      tumblingWindow({ sizeMs: windowMs, aggregate: statsAggregate }),
      routeLate<Element<WindowResult<StatsAcc>>, EnrichedReview>((late$) =>
        late$.pipe(map((r) => r.ack.ack())),
      ),
      filter(isRecord),
      map((w) => {
        const s = w.value.result;
        const out: MovieRatingStats = {
          kind: "movie-stats",
          movieId: Number(w.value.key),
          title: s.title,
          windowStart: w.value.windowStart,
          windowEnd: w.value.windowEnd,
          reviews: s.count,
          meanRating: Math.round((s.sum / s.count) * 100) / 100,
          histogram: s.histogram,
        };
        return derive<StatsAcc, RecommendationOutput>(derive(w, s), out);
      }),
    );

  // Each input feeds both branches: it counts as two descendants of its origin.
  return (source) =>
    source.pipe(
      map((r) => {
        r.ack.retain(1);
        return r;
      }),
      connect((shared) => merge(shared.pipe(profiles), shared.pipe(stats))),
    );
}
