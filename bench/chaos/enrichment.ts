// reviews-enrichment under chaos. The suite writes each review into Cassandra's
// reviews.reviews itself (CQL, as the review service stores it) and then a ReviewEvent (the
// id only) to `reviews`. The job fetches the latest review from reviews-service, movie and
// user from reviews-catalog (one process each, on private ports) and writes
// reviews-enriched. Expected: every distinct event id the `reviews` topic holds comes out on
// reviews-enriched, carrying its review, that review's movie and user, at a version no older
// than the one written before the event. Output copies of one event id beyond the first are
// redeliveries (the topic is at-least-once; its consumer dedupes by event id): counted and
// reported, not failed.
import cassandra from "cassandra-driver";
import { createCodec } from "../../avro/index.js";
import {
  prepareCatalog,
  reviewDrawer,
  uuidOf,
  type EnrichedReview,
} from "./catalog.js";
import { retrying } from "./kafka.js";
import type { Scenario, ScenarioContext, Verdict } from "./scenario.js";

interface ReviewEvent {
  metadata: EnrichedReview["metadata"];
  reviewId: string;
}

/** Ports of the helper services, away from their defaults (7101–7103) used by other tests. */
export function enrichmentScenario(portBase: number): Scenario {
  const reviewPort = portBase + 601;
  const moviePort = portBase + 602;
  const userPort = portBase + 603;
  const eventCodec = createCodec<ReviewEvent>("dev.sluice.reviews.ReviewEvent");
  const enrichedCodec = createCodec<EnrichedReview>(
    "dev.sluice.reviews.EnrichedReview",
  );
  const sent: { key: string; value: Buffer }[] = [];
  /** Per event id: the review id and the version written to Cassandra before the event. */
  const wrote = new Map<string, { reviewId: string; version: number }>();
  let n = 0;
  let draw: ReturnType<typeof reviewDrawer> | undefined;
  let db: cassandra.Client | undefined;

  return {
    job: "reviews-enrichment",
    services: ["memcached", "postgres", "kafka", "cassandra"],
    inputTopic: "reviews",
    group: "reviews-enrichment",
    partitions: 4,
    env: {
      SLUICE_JOB__REVIEW_SERVICE__PORT: String(reviewPort),
      SLUICE_JOB__MOVIE_SERVICE__PORT: String(moviePort),
      SLUICE_JOB__USER_SERVICE__PORT: String(userPort),
    },
    helpers: [
      { job: "reviews-service", env: { SLUICE_JOB__PORT: String(reviewPort) } },
      {
        job: "reviews-catalog",
        env: {
          SLUICE_JOB__MOVIE_PORT: String(moviePort),
          SLUICE_JOB__USER_PORT: String(userPort),
        },
      },
    ],

    async prepare(ctx: ScenarioContext) {
      draw = reviewDrawer(ctx.seed + 1000);
      await prepareCatalog(ctx);
      await ctx.kafka.createTopic("reviews", 4);
      await ctx.kafka.createTopic("reviews-enriched", 4);
      db = new cassandra.Client({
        contactPoints: [ctx.cassandraContactPoint],
        localDataCenter: "datacenter1",
        socketOptions: { readTimeout: 10_000 },
      });
    },

    async produce(ctx: ScenarioContext, count: number) {
      const d = draw!;
      const batch: { key: string; value: Buffer }[] = [];
      const rows: EnrichedReview["review"][] = [];
      for (let k = 0; k < count; k++) {
        if (d.r() < 0.03 && sent.length > 0) {
          batch.push(sent[Math.floor(d.r() * sent.length)]!);
          continue;
        }
        const review = d.next(n);
        const eventId = uuidOf(ctx.seed, n, "enrichment-event");
        n++;
        rows.push(review);
        wrote.set(eventId, {
          reviewId: review.reviewId,
          version: review.version,
        });
        const m = {
          key: review.reviewId,
          value: eventCodec.encode({
            metadata: {
              eventId,
              occurredAt: review.updatedAt,
              producer: "sluice-chaos",
              correlationId: null,
            },
            reviewId: review.reviewId,
          }),
        };
        sent.push(m);
        batch.push(m);
      }
      // The review first, then its event: the review service has it when the job asks.
      await retrying(
        `writing ${rows.length} reviews to Cassandra reviews.reviews`,
        180_000,
        () =>
          db!.batch(
            rows.map((r) => ({
              query:
                "INSERT INTO reviews.reviews (review_id, version, movie_id, user_id, rating, text, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
              params: [
                r.reviewId,
                cassandra.types.Long.fromNumber(r.version),
                cassandra.types.Long.fromNumber(r.movieId),
                cassandra.types.Long.fromNumber(r.userId),
                r.rating,
                r.text,
                r.createdAt,
                r.updatedAt,
              ],
            })),
            { prepare: true, logged: false },
          ),
      );
      await ctx.kafka.produce("reviews", batch);
    },

    async check(ctx: ScenarioContext): Promise<Verdict> {
      await db?.shutdown().catch(() => undefined);
      const input = await ctx.kafka.readAll("reviews");
      const want = new Map<string, string>();
      for (const m of input) {
        const e = eventCodec.decode(m.value);
        want.set(e.metadata.eventId, e.reviewId);
      }
      const output = await ctx.kafka.readAll("reviews-enriched");
      const copies = new Map<string, number>();
      let wrong = 0;
      const examples: string[] = [];
      for (const m of output) {
        const e = enrichedCodec.decode(m.value);
        const id = e.metadata.eventId;
        if (!want.has(id)) continue; // another scenario's records
        copies.set(id, (copies.get(id) ?? 0) + 1);
        const w = wrote.get(id);
        const bad =
          e.review.reviewId !== want.get(id) ||
          e.movie.movieId !== e.review.movieId ||
          e.user.userId !== e.review.userId ||
          (w !== undefined && e.review.version < w.version);
        if (bad) {
          wrong++;
          if (examples.length < 4)
            examples.push(
              `event ${id}: enriched review ${e.review.reviewId}@${e.review.version} movie ${e.movie.movieId} user ${e.user.userId}, wrote ${want.get(id)}@${w?.version ?? "?"}`,
            );
        }
      }
      let lost = 0;
      for (const id of want.keys())
        if (!copies.has(id)) {
          lost++;
          if (examples.length < 8)
            examples.push(
              `event ${id} (review ${want.get(id)}): never enriched`,
            );
        }
      const redelivered = [...copies.values()].reduce((a, c) => a + c - 1, 0);
      if (redelivered > 0)
        examples.push(
          `${redelivered} redelivered copies (same event id again on reviews-enriched; at-least-once, not failed)`,
        );
      return {
        expected: want.size,
        got: copies.size,
        lost,
        doubled: 0,
        wrong,
        examples,
      };
    },
  };
}
