// `sluice run reviews-recommendation`: enriched reviews → recommendations and stats (C.1.2, C.7).
import { z } from "zod";
import { kafkaAdmin } from "../../../connectors/kafka/index.js";
import { capacityProblem } from "../../../runtime/capacity.js";
import { defineJob } from "../../../runtime/job.js";
import { startRecommendation } from "../stack-wiring.js";
import {
  cassandraFor,
  identifier,
  kafkaBrokers,
  memcachedServers,
  postgresFor,
} from "./connections.js";

/**
 * Reads `reviews-enriched`, drops processed event ids (memcached under its own prefix),
 * keeps each user's ratings and each partition's per-movie window counts in keyed state
 * (checkpointed with the offsets to `checkpoint.store`; use `postgres` or `cassandra` so a
 * restart resumes from them), and writes each user's recommendations to Cassandra
 * `user_recommendations` and PostgreSQL `analytics.user_recommendations` (Superset reads the
 * `analytics.recommendations_latest` view), and per-movie rating stats per event-time window
 * to `analytics.movie_rating_stats_parts` (summed by the `analytics.movie_rating_stats`
 * view). Every write is an upsert keyed by user or (movie, window, partition).
 *
 * @example
 * ```sh
 * KAFKA_BROKERS=127.0.0.1:9092 CASSANDRA_CONTACT_POINTS=127.0.0.1:9042 DATABASE_URL=postgres://sluice:sluice@127.0.0.1:5432/sluice MEMCACHED_SERVERS=127.0.0.1:11211 SLUICE_CHECKPOINT_STORE=postgres sluice run reviews-recommendation --port 9475
 * ```
 */
export default defineJob({
  name: "reviews-recommendation",
  description:
    "reviews-enriched → taste profiles → Cassandra user_recommendations and PostgreSQL analytics.",
  config: z
    .object({
      group: z.string().min(1).default("reviews-recommendation"),
      enrichedTopic: z.string().min(1).default("reviews-enriched"),
      deadLetterTopic: z.string().min(1).default("reviews-dead-letters"),
      partitions: z.number().int().positive().default(4),
      keyspace: identifier.default("reviews"),
      analyticsSchema: identifier.default("analytics"),
      catalogSchema: identifier.default("reviews_catalog"),
      dedupeKeyPrefix: z.string().min(1).default("reviews-recommendation:"),
      dedupeTtlMs: z
        .number()
        .int()
        .positive()
        .default(7 * 86_400_000),
      topK: z.number().int().positive().default(10),
      /** Records read but not yet written, over all partitions. */
      maxInFlight: z.number().int().positive().default(2_000),
      /**
       * Records waiting for their dedupe claim. Default: `maxInFlight`, so it can never fill
       * up (every record in flight may wait there at once); never below it.
       */
      dedupeMaxBuffered: z.number().int().positive().optional(),
      dedupeClaimTtlMs: z.number().int().positive().default(60_000),
      /**
       * Chaos suite only: breaks the guarantee on purpose by confirming event ids in memcached
       * before a checkpoint holds their effect (records are then lost on a rebalance or crash).
       */
      unsafeConfirmBeforeCheckpoint: z.boolean().default(false),
      statsWindowMs: z.number().int().positive().default(3_600_000),
      statsRetentionMs: z
        .number()
        .int()
        .positive()
        .default(30 * 86_400_000),
    })
    .strict()
    .superRefine((c, ctx) => {
      const why = capacityProblem(
        { field: "maxInFlight", value: c.maxInFlight },
        {
          field: "dedupeMaxBuffered",
          value: c.dedupeMaxBuffered ?? c.maxInFlight,
        },
      );
      if (why !== undefined)
        ctx.addIssue({
          code: "custom",
          path: ["dedupeMaxBuffered"],
          message: why,
        });
    }),
  async run(ctx) {
    const c = ctx.config;
    const brokers = kafkaBrokers(ctx.runtime);
    const admin = kafkaAdmin({ brokers });
    try {
      await admin.createTopics([
        { topic: c.enrichedTopic, partitions: c.partitions },
        { topic: c.deadLetterTopic, partitions: 1 },
      ]);
    } finally {
      await admin.close();
    }
    if (ctx.runtime.checkpoint.store === "memory")
      ctx.logger.warn(
        "checkpoint.store is memory: after a restart the state is rebuilt by reading reviews-enriched from its earliest retained offset; set SLUICE_CHECKPOINT_STORE=postgres or cassandra to resume from a checkpoint",
      );
    const job = await startRecommendation(ctx, {
      brokers,
      group: c.group,
      enrichedTopic: c.enrichedTopic,
      deadLetterTopic: c.deadLetterTopic,
      cassandra: cassandraFor(ctx, ctx.runtime, c.keyspace),
      keyspace: c.keyspace,
      postgres: postgresFor(ctx, ctx.runtime),
      analyticsSchema: c.analyticsSchema,
      catalogSchema: c.catalogSchema,
      memcachedServers: memcachedServers(ctx.runtime),
      dedupeKeyPrefix: c.dedupeKeyPrefix,
      dedupeTtlMs: c.dedupeTtlMs,
      topK: c.topK,
      maxInFlight: c.maxInFlight,
      ...(c.dedupeMaxBuffered !== undefined
        ? { dedupeMaxBuffered: c.dedupeMaxBuffered }
        : {}),
      dedupeClaimTtlMs: c.dedupeClaimTtlMs,
      unsafeConfirmBeforeCheckpoint: c.unsafeConfirmBeforeCheckpoint,
      statsWindowMs: c.statsWindowMs,
      statsRetentionMs: c.statsRetentionMs,
    });
    ctx.ready();
    await job.done;
  },
});
