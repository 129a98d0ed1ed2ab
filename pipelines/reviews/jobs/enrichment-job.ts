// `sluice run reviews-enrichment`: reviews → enriched reviews (C.4.1, C.6.3, C.7).
import { z } from "zod";
import { Gauge } from "prom-client";
import { kafkaAdmin } from "../../../connectors/kafka/index.js";
import { defineJob } from "../../../runtime/job.js";
import { ENRICHMENT_DEAD_LETTER_STAGES } from "../enrichment.js";
import { startEnrichment } from "../stack-wiring.js";
import {
  DEFAULT_PORTS,
  endpoint,
  kafkaBrokers,
  memcachedServers,
} from "./connections.js";

/**
 * Reads ReviewEvents from `reviews`, drops processed event ids (near lru-cache, then
 * memcached under its own key prefix), fetches the latest review, its movie and its user over
 * Avro RPC and writes `reviews-enriched`. Undecodable events and reviews that cannot be
 * enriched go to the dead-letter topic with `sluice.error.*` headers.
 *
 * @example
 * ```sh
 * KAFKA_BROKERS=127.0.0.1:9092 MEMCACHED_SERVERS=127.0.0.1:11211 sluice run reviews-enrichment --port 9474
 * ```
 */
export default defineJob({
  name: "reviews-enrichment",
  description:
    "reviews → dedupe → review, movie, user over Avro RPC → reviews-enriched.",
  config: z
    .object({
      group: z.string().min(1).default("reviews-enrichment"),
      topic: z.string().min(1).default("reviews"),
      enrichedTopic: z.string().min(1).default("reviews-enriched"),
      deadLetterTopic: z.string().min(1).default("reviews-dead-letters"),
      partitions: z.number().int().positive().default(4),
      reviewService: endpoint(DEFAULT_PORTS.review),
      movieService: endpoint(DEFAULT_PORTS.movie),
      userService: endpoint(DEFAULT_PORTS.user),
      dedupeKeyPrefix: z.string().min(1).default("reviews-enrichment:"),
      dedupeTtlMs: z
        .number()
        .int()
        .positive()
        .default(7 * 86_400_000),
      // After a crash, the restarted job waits this long for the event ids the dead one
      // had claimed and not confirmed.
      dedupeClaimTtlMs: z.number().int().positive().default(60_000),
      maxInFlight: z.number().int().positive().default(2_000),
    })
    .strict(),
  async run(ctx) {
    const c = ctx.config;
    const brokers = kafkaBrokers(ctx.runtime);
    const admin = kafkaAdmin({ brokers });
    try {
      await admin.createTopics(
        [c.topic, c.enrichedTopic, c.deadLetterTopic].map((topic) => ({
          topic,
          partitions: topic === c.deadLetterTopic ? 1 : c.partitions,
        })),
      );
    } finally {
      await admin.close();
    }
    const job = await startEnrichment(ctx, {
      brokers,
      group: c.group,
      topic: c.topic,
      enrichedTopic: c.enrichedTopic,
      deadLetterTopic: c.deadLetterTopic,
      reviewService: c.reviewService,
      movieService: c.movieService,
      userService: c.userService,
      memcachedServers: memcachedServers(ctx.runtime),
      dedupeKeyPrefix: c.dedupeKeyPrefix,
      dedupeTtlMs: c.dedupeTtlMs,
      dedupeClaimTtlMs: c.dedupeClaimTtlMs,
      maxInFlight: c.maxInFlight,
    });
    const { dedupe, badRecords } = job.counters;
    // sluice_dedupe_total and sluice_bad_records_total, which the Pipelines dashboard charts.
    ctx.trackCounters({
      dedupe: [{ name: "reviews-enrichment", counters: dedupe }],
      deadLetters: badRecords.map((counters, i) => ({
        name: ENRICHMENT_DEAD_LETTER_STAGES[i] ?? `stage-${i}`,
        counters,
      })),
    });
    new Gauge({
      name: "reviews_enrichment_dedupe_hits",
      help: "Duplicate review events skipped.",
      registers: [ctx.metrics],
      collect() {
        this.set(dedupe.hits);
      },
    });
    new Gauge({
      name: "reviews_enrichment_dead_letters",
      help: "Review events that could not be enriched.",
      registers: [ctx.metrics],
      collect() {
        this.set(
          badRecords.reduce(
            (n, b) => n + [...b.byCode.values()].reduce((a, x) => a + x, 0),
            0,
          ),
        );
      },
    });
    ctx.ready();
    await job.done;
  },
});
