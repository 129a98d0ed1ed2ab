import type { Catalog } from "./catalog.js";
import { generateReviews } from "./producer.js";
import {
  combineStats,
  type MovieRatingStats,
  type RecommendationOutput,
  type UserRecommendations,
} from "./recommendation.js";
import type { ReviewStore } from "./review-store.js";

/**
 * What the demo chains (embedded and on the stack) observe of the recommendation job's
 * output: the latest recommendations per user, updates per user, per-movie stats, and the
 * latency from each review's submission to the update it caused.
 */
export class ChainObserver {
  readonly recommendations = new Map<number, UserRecommendations>();
  readonly updatesPerUser = new Map<number, number>();
  /** Latest part of each (movie, window, partition). */
  private readonly statParts = new Map<string, MovieRatingStats>();
  readonly submittedAt = new Map<string, number>();
  private readonly latencies: number[] = [];
  recommendationsWritten = 0;

  /** Records one output of the recommendation job. */
  observe(v: RecommendationOutput): void {
    if (v.kind === "movie-stats") {
      this.statParts.set(`${v.movieId}/${v.windowStart}/${v.partition}`, v);
      return;
    }
    this.recommendations.set(v.userId, v);
    this.updatesPerUser.set(
      v.userId,
      (this.updatesPerUser.get(v.userId) ?? 0) + 1,
    );
    this.recommendationsWritten += 1;
    const started = this.submittedAt.get(v.cause);
    if (started !== undefined) this.latencies.push(Date.now() - started);
  }

  /** Per-movie stats of every window so far, the partitions' parts summed. */
  get movieStats(): MovieRatingStats[] {
    return combineStats(this.statParts.values());
  }

  /** Median and 99th percentile of submission → recommendation update, ms. */
  latencyMs(): { readonly p50: number; readonly p99: number } {
    const s = [...this.latencies].sort((a, b) => a - b);
    const at = (p: number): number =>
      s.length === 0
        ? 0
        : s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
    return { p50: at(50), p99: at(99) };
  }
}

/** Options of {@link submitReviews}. */
export interface SubmitOptions {
  readonly catalog: Catalog;
  readonly reviews: number;
  readonly seed: number;
  readonly malformedShare: number;
  /** Submissions in flight at once. Default 32. */
  readonly concurrency?: number;
}

/**
 * The demo producer: generated reviews (spread over one simulated day) submitted to the
 * review service, a few at a time; the review service rejects malformed ones.
 */
export async function submitReviews(
  service: Pick<ReviewStore, "put">,
  o: SubmitOptions,
  observer: ChainObserver,
  onProgress?: (stage: string, done: number) => void,
): Promise<{
  readonly produced: number;
  readonly accepted: number;
  readonly rejected: number;
}> {
  const concurrency = o.concurrency ?? 32;
  let produced = 0;
  let accepted = 0;
  let rejected = 0;
  const inFlight = new Set<Promise<void>>();
  for (const p of generateReviews({
    catalog: o.catalog,
    seed: o.seed,
    malformedShare: o.malformedShare,
    ratePerSecond: o.reviews / 86_400,
  })) {
    if (produced >= o.reviews) break;
    produced += 1;
    observer.submittedAt.set(p.review.reviewId, Date.now());
    const call = service.put(p.review).then(
      () => void (accepted += 1),
      () => void (rejected += 1),
    );
    inFlight.add(call);
    void call.finally(() => inFlight.delete(call));
    if (inFlight.size >= concurrency) await Promise.race(inFlight);
    if (produced % 250 === 0) onProgress?.("produced", produced);
  }
  await Promise.all(inFlight);
  onProgress?.("produced", produced);
  return { produced, accepted, rejected };
}

/** An undecodable event (a single-object header with no schema behind it), for dead-letter checks. */
export function corruptEvent(i: number): Buffer {
  return Buffer.from([0xc3, 0x01, 0xde, 0xad, i & 0xff]);
}
