import {
  from,
  map,
  pipe,
  type Observable,
  type OperatorFunction,
  type SchedulerLike,
} from "rxjs";
import {
  deadLetter,
  type BadRecordCounters,
  type DeadLetter,
} from "../../operators/dead-letter.js";
import {
  dedupe,
  type DedupeCounters,
  type DedupeStore,
} from "../../operators/dedupe.js";
import { enrich } from "../../operators/enrich.js";
import { derive, type Record } from "../../operators/record.js";
import { SluiceError } from "../../operators/sluice-error.js";
import type { MovieLookup, UserLookup } from "./catalog-repo.js";
import type { ReviewStore } from "./review-store.js";
import type { Movie, Review, User } from "./types.js";
import { checkReview } from "./validate.js";

/** A CDC event on the `reviews` topic: the review's primary id, not its data (seed C.6.2). */
export interface ReviewEventValue {
  readonly metadata: {
    readonly eventId: string;
    readonly occurredAt: Date;
    readonly producer: string;
    readonly correlationId: string | null;
  };
  readonly reviewId: string;
}

/** A review joined with its movie and user, as written to `reviews-enriched` (C.4.2). */
export interface EnrichedReview {
  readonly metadata: ReviewEventValue["metadata"];
  readonly review: Review;
  readonly movie: Movie;
  readonly user: User;
  readonly enrichedAt: Date;
}

/** What the enrichment job needs from the outside: the review service and the two metadata services. */
export interface EnrichmentOptions {
  readonly reviews: Pick<ReviewStore, "latestMany">;
  readonly movies: MovieLookup;
  readonly users: UserLookup;
  /** The job's own processed-id cache (C.7.1): near lru-cache in front of this far store. */
  readonly dedupeStore: DedupeStore;
  /** How long a processed event id is remembered. Default 7 days. */
  readonly dedupeTtlMs?: number;
  /**
   * How long the claim on an event id in flight lives unconfirmed: after a crash, the
   * restarted job waits this long for the ids the dead one had in flight. Default 60 s.
   */
  readonly dedupeClaimTtlMs?: number;
  /** Writes dead letters and acks each once stored. */
  readonly deadLetters: (
    deadLetters: Observable<Record<DeadLetter<unknown>>>,
  ) => Observable<unknown>;
  /** Keys per lookup call to each service. Default 100. */
  readonly maxBatch?: number;
  readonly scheduler?: SchedulerLike;
  /** Clock for `enrichedAt`. Default `Date.now`. */
  readonly now?: () => number;
}

/**
 * Names of the enrichment's dead-letter stages on /metrics (`sluice_bad_records_total{name}`),
 * in the order of `counters.badRecords`: the review lookup, then the movie, then the user.
 *
 * @example
 * ```ts
 * ENRICHMENT_DEAD_LETTER_STAGES[1]; // "movie"
 * ```
 */
export const ENRICHMENT_DEAD_LETTER_STAGES = [
  "review",
  "movie",
  "user",
] as const;

/** The enrichment job's counters, for metrics and the demo summary. */
export interface EnrichmentCounters {
  readonly dedupe: DedupeCounters;
  /** One per dead-letter stage, in the order of {@link ENRICHMENT_DEAD_LETTER_STAGES}. */
  readonly badRecords: readonly BadRecordCounters[];
}

interface WithReview {
  readonly event: ReviewEventValue;
  readonly review: Review;
}
interface WithMovie extends WithReview {
  readonly movie: Movie;
}

const byId = <K, V>(items: readonly V[], id: (v: V) => K): ReadonlyMap<K, V> =>
  new Map(items.map((v) => [id(v), v]));

/**
 * The enrichment job (seed C.4.1): review events → dedupe by event id → the latest version of
 * the review from the review service (delayed materialisation, C.6.3) → its movie and user
 * from their services, each lookup batched and near-cached → {@link EnrichedReview}. A review
 * that is missing or invalid, or whose movie or user is unknown, goes to the dead letter with
 * its reason and the job goes on.
 *
 * @example
 * ```ts
 * const { operator } = enrichReviews({ reviews, movies, users, dedupeStore, deadLetters: (dl$) => dl$.pipe(writeTo(dlq, { maxBatch: 100 })) });
 * source.records().pipe(operator, writeTo(enrichedSink, { maxBatch: 500 }));
 * ```
 */
export function enrichReviews(options: EnrichmentOptions): {
  readonly operator: OperatorFunction<
    Record<ReviewEventValue>,
    Record<EnrichedReview>
  >;
  readonly counters: EnrichmentCounters;
} {
  const scheduler =
    options.scheduler === undefined ? {} : { scheduler: options.scheduler };
  const maxBatch = options.maxBatch ?? 100;
  const now = options.now ?? Date.now;
  const dd = dedupe<ReviewEventValue>({
    idOf: (r) => r.value.metadata.eventId,
    store: options.dedupeStore,
    ttlMs: options.dedupeTtlMs ?? 7 * 86_400_000,
    ...(options.dedupeClaimTtlMs !== undefined
      ? { claimTtlMs: options.dedupeClaimTtlMs }
      : {}),
    ...scheduler,
  });
  const policy = "DEAD_LETTER" as const;
  const sink = options.deadLetters;
  const dlReview = deadLetter<ReviewEventValue, WithReview>({ policy, sink });
  const dlMovie = deadLetter<WithReview, WithMovie>({ policy, sink });
  const dlUser = deadLetter<WithMovie, EnrichedReview>({ policy, sink });

  const operator = pipe(
    dd,
    enrich<ReviewEventValue, string, Review, WithReview>({
      keyOf: (r) => r.value.reviewId,
      lookup: (ids) =>
        from(options.reviews.latestMany(ids)).pipe(
          map((list) => byId(list, (v) => v.reviewId)),
        ),
      combine: (r, found) => {
        if (found === undefined)
          throw new SluiceError(
            "NOT_FOUND",
            `review ${r.value.reviewId} is not in the review service`,
            { context: { key: r.value.reviewId, stage: "enrich" } },
          );
        const check = checkReview(found);
        if (!check.ok) throw check.error;
        return { event: r.value, review: check.review };
      },
      maxBatch,
      cacheSize: 0, // the latest version is what we want: never serve a review from cache
      ...scheduler,
    }),
    dlReview,
    enrich<WithReview, number, Movie, WithMovie>({
      keyOf: (r) => r.value.review.movieId,
      lookup: (ids) =>
        from(options.movies.getMany(ids)).pipe(
          map((list) => byId(list, (v) => v.movieId)),
        ),
      combine: (r, movie) => {
        if (movie === undefined)
          throw new SluiceError(
            "NOT_FOUND",
            `movie ${r.value.review.movieId} of review ${r.value.review.reviewId} is unknown`,
            { context: { key: r.value.review.reviewId } },
          );
        return { ...r.value, movie };
      },
      maxBatch,
      ...scheduler,
    }),
    dlMovie,
    enrich<WithMovie, number, User, EnrichedReview>({
      keyOf: (r) => r.value.review.userId,
      lookup: (ids) =>
        from(options.users.getMany(ids)).pipe(
          map((list) => byId(list, (v) => v.userId)),
        ),
      combine: (r, user) => {
        if (user === undefined)
          throw new SluiceError(
            "NOT_FOUND",
            `user ${r.value.review.userId} of review ${r.value.review.reviewId} is unknown`,
            { context: { key: r.value.review.reviewId } },
          );
        return {
          metadata: r.value.event.metadata,
          review: r.value.review,
          movie: r.value.movie,
          user,
          enrichedAt: new Date(now()),
        };
      },
      maxBatch,
      ...scheduler,
    }),
    dlUser,
    // Partition reviews-enriched by user: the recommendation job keeps per-user taste state.
    map((r: Record<EnrichedReview>) =>
      derive(r, r.value, { key: String(r.value.review.userId) }),
    ),
  );
  return {
    operator,
    counters: {
      dedupe: dd.counters,
      badRecords: [dlReview.counters, dlMovie.counters, dlUser.counters],
    },
  };
}
