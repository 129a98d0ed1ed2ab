import type { Review } from "./types.js";
import { validateReview } from "./validate.js";

/**
 * Where the review service keeps reviews (seed C.6.1): every version is written, and reads
 * serve the latest version of a review by id (for delayed materialisation, C.6.3).
 */
export interface ReviewStore {
  /** Validates and writes one version; an older version than the stored one never wins. */
  put(review: Review): Promise<void>;
  /** The latest version of a review, or `undefined` when there is none. */
  latest(reviewId: string): Promise<Review | undefined>;
  /** The latest version of each review found, in the order of `reviewIds`; missing ids are left out. */
  latestMany(reviewIds: readonly string[]): Promise<Review[]>;
}

/** Options of {@link memoryReviewStore}. */
export interface MemoryReviewStoreOptions {
  /** Called after every accepted write (the in-memory stand-in for Cassandra's CDC log). */
  readonly onWrite?: (review: Review) => void;
}

/**
 * A {@link ReviewStore} in a `Map`, for the embedded demo and unit tests.
 *
 * @example
 * ```ts
 * const store = memoryReviewStore();
 * await store.put(review);
 * (await store.latest(review.reviewId))?.version; // 1
 * ```
 */
export function memoryReviewStore(
  options: MemoryReviewStoreOptions = {},
): ReviewStore & { readonly size: number } {
  const latest = new Map<string, Review>();
  return {
    get size() {
      return latest.size;
    },
    put: (review) =>
      Promise.resolve(review).then((r) => {
        const valid = validateReview(r);
        const before = latest.get(valid.reviewId);
        if (before === undefined || before.version <= valid.version)
          latest.set(valid.reviewId, valid);
        options.onWrite?.(valid);
      }),
    latest: (reviewId) => Promise.resolve(latest.get(reviewId)),
    latestMany: (reviewIds) =>
      Promise.resolve(
        reviewIds.flatMap((id) => {
          const r = latest.get(id);
          return r === undefined ? [] : [r];
        }),
      ),
  };
}
