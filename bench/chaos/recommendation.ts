// reviews-recommendation under chaos. Input: EnrichedReview records on reviews-enriched, made
// by the suite's own generator (not pipelines/reviews/producer.ts). Expected: per movie and
// 1-hour window of updatedAt, the number of distinct reviewId@version the topic holds (plain
// arithmetic over the topic read back from offset 0), and per user the newest updatedAt.
// Got: analytics.movie_rating_stats and analytics.user_recommendations, read with SQL.
import { createCodec } from "../../avro/index.js";
import {
  movieOf,
  prepareCatalog,
  reviewDrawer,
  userOf,
  uuidOf,
  WINDOW_MS,
  type EnrichedReview,
} from "./catalog.js";
import type { Scenario, ScenarioContext, Verdict } from "./scenario.js";

export function recommendationScenario(): Scenario {
  const codec = createCodec<EnrichedReview>(
    "dev.sluice.reviews.EnrichedReview",
  );
  // Sent events, for re-sends of the same event id.
  const sent: { key: string; value: Buffer }[] = [];
  let n = 0;
  let draw: ReturnType<typeof reviewDrawer> | undefined;

  return {
    job: "reviews-recommendation",
    services: ["memcached", "postgres", "kafka", "cassandra"],
    inputTopic: "reviews-enriched",
    group: "reviews-recommendation",
    partitions: 4,
    env: {},

    async prepare(ctx: ScenarioContext) {
      draw = reviewDrawer(ctx.seed);
      await prepareCatalog(ctx);
      await ctx.kafka.createTopic("reviews-enriched", 4);
    },

    async produce(ctx: ScenarioContext, count: number) {
      const batch: { key: string; value: Buffer }[] = [];
      for (let k = 0; k < count; k++) {
        const d = draw!;
        if (d.r() < 0.03 && sent.length > 0) {
          // The same event again (same event id): at-least-once upstream.
          batch.push(sent[Math.floor(d.r() * sent.length)]!);
          continue;
        }
        const review = d.next(n);
        const event: EnrichedReview = {
          metadata: {
            eventId: uuidOf(ctx.seed, n, "event"),
            occurredAt: review.updatedAt,
            producer: "sluice-chaos",
            correlationId: null,
          },
          review,
          movie: movieOf(review.movieId),
          user: userOf(review.userId),
          enrichedAt: review.updatedAt,
        };
        n++;
        const m = { key: String(review.userId), value: codec.encode(event) };
        sent.push(m);
        batch.push(m);
      }
      await ctx.kafka.produce("reviews-enriched", batch);
    },

    async check(ctx: ScenarioContext): Promise<Verdict> {
      const input = await ctx.kafka.readAll("reviews-enriched");
      // Expected, from the topic alone: distinct reviewId@version per (movie, window).
      const versions = new Map<string, { movie: number; window: number }>();
      const newest = new Map<number, number>();
      for (const m of input) {
        const e = codec.decode(m.value);
        const t = e.review.updatedAt.getTime();
        versions.set(`${e.review.reviewId}@${e.review.version}`, {
          movie: e.review.movieId,
          window: Math.floor(t / WINDOW_MS) * WINDOW_MS,
        });
        newest.set(
          e.review.userId,
          Math.max(newest.get(e.review.userId) ?? 0, t),
        );
      }
      const want = new Map<string, number>();
      for (const v of versions.values()) {
        const k = `${v.movie}/${v.window}`;
        want.set(k, (want.get(k) ?? 0) + 1);
      }
      const { rows } = await ctx.pg.query<{
        movie_id: string;
        ws: string;
        reviews: number;
      }>(
        `SELECT movie_id::text, (extract(epoch FROM window_start) * 1000)::bigint::text AS ws, reviews
           FROM analytics.movie_rating_stats`,
      );
      const got = new Map(
        rows.map((x) => [`${x.movie_id}/${x.ws}`, x.reviews]),
      );
      let lost = 0;
      let doubled = 0;
      const examples: string[] = [];
      for (const k of new Set([...want.keys(), ...got.keys()])) {
        const w = want.get(k) ?? 0;
        const g = got.get(k) ?? 0;
        if (g < w) lost += w - g;
        if (g > w) doubled += g - w;
        if (g !== w && examples.length < 5)
          examples.push(
            `movie/window ${k}: expected ${w} review versions, got ${g}`,
          );
      }
      const { rows: users } = await ctx.pg.query<{
        user_id: string;
        g: string;
      }>(
        `SELECT user_id::text, (extract(epoch FROM generated_at) * 1000)::bigint::text AS g
           FROM analytics.user_recommendations`,
      );
      const gotUsers = new Map(
        users.map((u) => [Number(u.user_id), Number(u.g)]),
      );
      let wrong = 0;
      for (const [u, t] of newest) {
        if (gotUsers.get(u) !== t) {
          wrong++;
          if (examples.length < 8)
            examples.push(
              `user ${u}: row generated_at ${String(gotUsers.get(u) ?? "missing")}, newest review ${t}`,
            );
        }
      }
      const expected = versions.size;
      const gotTotal = [...got.values()].reduce((a, b) => a + b, 0);
      return { expected, got: gotTotal, lost, doubled, wrong, examples };
    },
  };
}
