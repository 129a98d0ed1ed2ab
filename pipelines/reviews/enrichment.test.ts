import { lastValueFrom, of, tap, toArray } from "rxjs";
import { describe, expect, it } from "vitest";
import type { DeadLetter } from "../../operators/dead-letter.js";
import { memoryDedupeStore } from "../../operators/memory-dedupe-store.js";
import { CommitTracker } from "../../operators/commit-tracker.js";
import { record, type Record } from "../../operators/record.js";
import { memoryMovieRepo, memoryUserRepo } from "./catalog-repo.js";
import { enrichReviews, type ReviewEventValue } from "./enrichment.js";
import {
  FIXTURE_MALFORMED,
  FIXTURE_MOVIES,
  FIXTURE_REVIEWS,
  FIXTURE_USERS,
} from "./fixtures.js";
import type { Review } from "./types.js";

const event = (
  reviewId: string,
  eventId = `e-${reviewId}`,
): ReviewEventValue => ({
  metadata: {
    eventId,
    occurredAt: new Date(0),
    producer: "test",
    correlationId: null,
  },
  reviewId,
});

function setup(reviews: readonly Review[]) {
  const byId = new Map(reviews.map((r) => [r.reviewId, r]));
  const dead: Record<DeadLetter<unknown>>[] = [];
  const job = enrichReviews({
    reviews: {
      latestMany: (ids) =>
        Promise.resolve(
          ids.flatMap((id) => (byId.has(id) ? [byId.get(id)!] : [])),
        ),
    },
    movies: memoryMovieRepo(FIXTURE_MOVIES),
    users: memoryUserRepo(FIXTURE_USERS),
    dedupeStore: memoryDedupeStore(),
    deadLetters: (dl$) =>
      dl$.pipe(
        tap((d) => {
          dead.push(d);
          d.ack.ack();
        }),
      ),
  });
  return { job, dead };
}

function run(events: readonly ReviewEventValue[], reviews: readonly Review[]) {
  const { job, dead } = setup(reviews);
  const tracker = new CommitTracker("reviews", 0);
  const records = events.map((value, offset) =>
    record({
      key: value.reviewId,
      value,
      timestamp: 0,
      origin: { topic: "reviews", partition: 0, offset },
      ack: tracker.track(offset),
    }),
  );
  const out = lastValueFrom(
    of(...records).pipe(
      job.operator,
      tap((r) => r.ack.ack()),
      toArray(),
    ),
  );
  return { out, dead, tracker, counters: job.counters };
}

describe("the enrichment job", () => {
  it("joins each review event with the latest review, its movie and its user", async () => {
    const { out, tracker } = run(
      FIXTURE_REVIEWS.map((r) => event(r.reviewId)),
      FIXTURE_REVIEWS,
    );
    const enriched = await out;
    expect(enriched).toHaveLength(FIXTURE_REVIEWS.length);
    const first = enriched.find(
      (r) => r.value.review.reviewId === FIXTURE_REVIEWS[0]!.reviewId,
    )!;
    expect(first.value.movie.movieId).toBe(FIXTURE_REVIEWS[0]!.movieId);
    expect(first.value.user.userId).toBe(FIXTURE_REVIEWS[0]!.userId);
    expect(first.key).toBe(String(FIXTURE_REVIEWS[0]!.userId));
    expect(tracker.committable).toBe(FIXTURE_REVIEWS.length);
  });

  it("drops a duplicate event and still acknowledges it", async () => {
    const id = FIXTURE_REVIEWS[0]!.reviewId;
    const { out, tracker, counters } = run(
      [event(id, "same"), event(id, "same")],
      FIXTURE_REVIEWS,
    );
    expect(await out).toHaveLength(1);
    expect(counters.dedupe.hits).toBe(1);
    expect(tracker.committable).toBe(2);
  });

  it("sends a malformed review and a missing one to the dead letter with the reason, and goes on", async () => {
    const { out, dead, tracker } = run(
      [
        event(FIXTURE_MALFORMED.reviewId),
        event("00000000-0000-4000-8000-000000000000"),
        event(FIXTURE_REVIEWS[1]!.reviewId),
      ],
      [...FIXTURE_REVIEWS, FIXTURE_MALFORMED],
    );
    expect(await out).toHaveLength(1);
    expect(dead.map((d) => d.value.reason.code).sort()).toEqual([
      "NOT_FOUND",
      "VALIDATE",
    ]);
    expect(
      dead.find((d) => d.value.reason.code === "VALIDATE")!.value.reason
        .message,
    ).toMatch(/review\.rating/);
    expect(tracker.committable).toBe(3);
  });

  it("sends a review of an unknown movie to the dead letter", async () => {
    const orphan: Review = {
      ...FIXTURE_REVIEWS[0]!,
      reviewId: "11111111-1111-4111-8111-111111111111",
      movieId: 999,
    };
    const { out, dead } = run([event(orphan.reviewId)], [orphan]);
    expect(await out).toHaveLength(0);
    expect(dead[0]!.value.reason.message).toMatch(/movie 999/);
  });
});
