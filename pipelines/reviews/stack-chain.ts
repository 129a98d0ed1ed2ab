import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createCassandraClient } from "../../connectors/cassandra/index.js";
import { kafkaAdmin, kafkaSink } from "../../connectors/kafka/index.js";
import { createPostgresPool } from "../../connectors/postgres/index.js";
import { exportConnectors } from "../../connectors/metrics.js";
import { migrateJobStats, startJobStats } from "../../runtime/job-stats.js";
import { Registry } from "prom-client";
import type { ReviewsChainOptions, ReviewsChainReport } from "./chain.js";
import { generateCatalog } from "./catalog.js";
import { ENRICHMENT_DEAD_LETTER_STAGES } from "./enrichment.js";
import { ChainObserver, corruptEvent, submitReviews } from "./chain-parts.js";
import { TasteModel } from "./recommend.js";

/** Where the runtime's job stats go by default (`postgres.schema`), which the Pipelines dashboard reads. */
const JOB_STATS_SCHEMA = "sluice";
import { reviewServiceClient } from "./services.js";
import {
  localWiring,
  startCatalogServices,
  startCdc,
  startEnrichment,
  startRecommendation,
  startReviewService,
} from "./stack-wiring.js";

/** Where the real services are (see `stack/`'s `Endpoints`). */
export interface StackEndpoints {
  readonly kafkaBrokers: readonly string[];
  readonly cassandraContactPoints: readonly string[];
  readonly cassandraLocalDc: string;
  readonly databaseUrl: string;
  readonly memcachedServers: readonly string[];
}

/** Options of {@link runReviewsChainOnStack}. */
export interface StackChainOptions extends ReviewsChainOptions {
  /**
   * Suffix of every topic, keyspace, schema, group and key prefix of the run. Default: unique
   * per run (a fresh system); pass a fixed one (`--keep`) to reuse the previous run's.
   */
  readonly runId?: string;
  /** Drop the run's topics, keyspace and schemas at the end. Default: true unless `runId` is given. */
  readonly cleanup?: boolean;
}

/** The names a stack run used (printed so they can be inspected or reused). */
export interface StackRunNames {
  readonly runId: string;
  readonly topics: {
    readonly reviews: string;
    readonly enriched: string;
    readonly deadLetters: string;
  };
  readonly keyspace: string;
  readonly catalogSchema: string;
  readonly analyticsSchema: string;
}

/** The names of run `runId`: lower-case, valid as Kafka topics, keyspaces and schemas. */
export function stackRunNames(runId: string): StackRunNames {
  return {
    runId,
    topics: {
      reviews: `reviews-${runId}`,
      enriched: `reviews-enriched-${runId}`,
      deadLetters: `reviews-dead-letters-${runId}`,
    },
    keyspace: `reviews_${runId}`,
    catalogSchema: `reviews_catalog_${runId}`,
    analyticsSchema: `analytics_${runId}`,
  };
}

/**
 * The same chain as {@link runReviewsChain}, against the real services: the review service
 * on Cassandra, the CDC relay on Cassandra's change log, Kafka topics between the jobs,
 * the catalogue on PostgreSQL, memcached for both jobs' processed ids, recommendations in
 * Cassandra and PostgreSQL, per-movie stats in PostgreSQL. One process, the jobs' own
 * wiring (`stack-wiring.ts`).
 *
 * @example
 * ```ts
 * const report = await runReviewsChainOnStack({ ...defaultChainOptions, reviews: 2000 }, endpoints);
 * console.log(summary(report));
 * ```
 */
export async function runReviewsChainOnStack(
  o: StackChainOptions,
  env: StackEndpoints,
  onProgress?: (stage: string, done: number) => void,
): Promise<ReviewsChainReport & { readonly names: StackRunNames }> {
  const runId =
    o.runId ??
    `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const names = stackRunNames(runId);
  const cleanup = o.cleanup ?? o.runId === undefined;
  const catalog = generateCatalog({
    movies: o.movies,
    users: o.users,
    seed: o.seed,
  });
  const brokers = env.kafkaBrokers;
  const w = localWiring();
  const admin = kafkaAdmin({ brokers });
  const cassandra = createCassandraClient({
    contactPoints: env.cassandraContactPoints,
    localDataCenter: env.cassandraLocalDc,
    keyspace: names.keyspace,
  });
  const postgres = createPostgresPool({ connectionString: env.databaseUrl });
  const dir = await mkdtemp(join(tmpdir(), "sluice-reviews-"));
  try {
    await admin.createTopics([
      { topic: names.topics.reviews, partitions: o.partitions },
      { topic: names.topics.enriched, partitions: o.partitions },
      { topic: names.topics.deadLetters, partitions: 1 },
    ]);
    const reviewServer = await startReviewService(w, {
      cassandra,
      keyspace: names.keyspace,
      port: 0,
    });
    const { movieServer, userServer } = await startCatalogServices(w, {
      postgres,
      schema: names.catalogSchema,
      moviePort: 0,
      userPort: 0,
      seed: { movies: o.movies, users: o.users, seed: o.seed },
    });
    const { relay } = await startCdc(w, {
      brokers,
      contactPoints: env.cassandraContactPoints,
      localDataCenter: env.cassandraLocalDc,
      keyspace: names.keyspace,
      topic: names.topics.reviews,
      positionFile: join(dir, "position.json"),
    });
    const at = (port: number) => ({ host: "127.0.0.1", port });
    const enrichmentGroup = `reviews-enrichment-${runId}`;
    const recommendationGroup = `reviews-recommendation-${runId}`;
    const enrichment = await startEnrichment(w, {
      brokers,
      group: enrichmentGroup,
      topic: names.topics.reviews,
      enrichedTopic: names.topics.enriched,
      deadLetterTopic: names.topics.deadLetters,
      reviewService: at(reviewServer.port),
      movieService: at(movieServer.port),
      userService: at(userServer.port),
      memcachedServers: env.memcachedServers,
      dedupeKeyPrefix: `reviews-enrichment-${runId}:`,
      dedupeTtlMs: 86_400_000,
    });

    const seen = new ChainObserver();
    const model = new TasteModel();
    const recommendation = await startRecommendation(w, {
      brokers,
      group: recommendationGroup,
      enrichedTopic: names.topics.enriched,
      deadLetterTopic: names.topics.deadLetters,
      cassandra,
      keyspace: names.keyspace,
      postgres,
      analyticsSchema: names.analyticsSchema,
      catalogSchema: names.catalogSchema,
      memcachedServers: env.memcachedServers,
      dedupeKeyPrefix: `reviews-recommendation-${runId}:`,
      dedupeTtlMs: 86_400_000,
      topK: 5,
      mirror: model,
      onOutput: (v) => seen.observe(v),
    });
    // The Pipelines dashboard's data: both jobs' counters into `sluice.job_stats`, as
    // `sluice run` writes them, under an instance named after this run. The rows stay after
    // the run (they are the dashboard's history, like a real job's).
    const statsInstance = `demo-${runId}`;
    await migrateJobStats(postgres, JOB_STATS_SCHEMA);
    const jobStats = [
      {
        job: "reviews-enrichment",
        source: enrichment.source,
        counters: {
          dedupe: [
            {
              name: "reviews-enrichment",
              counters: enrichment.counters.dedupe,
            },
          ],
          deadLetters: enrichment.counters.badRecords.map((counters, i) => ({
            name: ENRICHMENT_DEAD_LETTER_STAGES[i] ?? `stage-${i}`,
            counters,
          })),
        },
      },
      {
        job: "reviews-recommendation",
        source: recommendation.source,
        counters: {},
      },
    ].map(({ job, source, counters }) => {
      const registry = new Registry();
      const exported = exportConnectors(registry);
      exported.source(source);
      exported.counters(counters);
      return startJobStats({
        db: postgres,
        schema: JOB_STATS_SCHEMA,
        job,
        instance: statsInstance,
        registry,
        intervalMs: 2_000,
      });
    });
    w.onShutdown(async () => {
      await Promise.all(jobStats.map((j) => j.stop()));
    });
    let failure: unknown;
    for (const job of [enrichment.done, recommendation.done, relay.done])
      job.catch((e: unknown) => (failure ??= e));

    // Producer: reviews to the review service over RPC, a few at a time.
    const producer = await reviewServiceClient(at(reviewServer.port));
    w.onShutdown(() => producer.close());
    const started = Date.now();
    const { produced, accepted, rejected } = await submitReviews(
      producer,
      {
        catalog,
        reviews: o.reviews,
        seed: o.seed,
        malformedShare: o.malformedShare,
      },
      seen,
      onProgress,
    );
    // Undecodable events straight onto the topic: they must reach the dead letter.
    if (o.corruptEvents > 0) {
      const raw = kafkaSink<Buffer>({
        brokers,
        topic: names.topics.reviews,
        encode: (b) => b,
      });
      try {
        await raw.write(
          Array.from({ length: o.corruptEvents }, (_, i) => ({
            key: `corrupt-${i}`,
            value: corruptEvent(i),
          })),
        );
      } finally {
        await raw.close();
      }
    }

    const caughtUp = async (group: string, topic: string) =>
      (await admin.lag(group, topic)).every(
        (p) => p.committed !== undefined && p.lag === 0,
      );
    const deadline = Date.now() + (o.catchUpTimeoutMs ?? 180_000);
    for (;;) {
      if (failure !== undefined)
        throw failure instanceof Error
          ? failure
          : new Error("a reviews job failed", { cause: failure });
      onProgress?.("processed", seen.recommendationsWritten);
      await enrichment.source.commit();
      await recommendation.source.commit();
      if (
        relay.stats.published + relay.stats.stale >= accepted &&
        (await caughtUp(enrichmentGroup, names.topics.reviews)) &&
        (await caughtUp(recommendationGroup, names.topics.enriched))
      )
        break;
      if (Date.now() > deadline)
        throw new Error(
          `reviews chain on the stack did not catch up in time: relay published ${relay.stats.published} (stale ${relay.stats.stale}) of ${accepted}; recommendation updates ${seen.recommendationsWritten}, stats windows ${seen.movieStats.length}`,
        );
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const seconds = (Date.now() - started) / 1000;
    onProgress?.("processed", seen.recommendationsWritten);
    const allCommitted =
      (await caughtUp(enrichmentGroup, names.topics.reviews)) &&
      (await caughtUp(recommendationGroup, names.topics.enriched));
    const stats = { ...relay.stats };
    await w.close();
    await Promise.all([enrichment.done, recommendation.done]);

    const byCode: { [code: string]: number } = {};
    const decodeDeadLetters =
      enrichment.source.metrics.deadLettered +
      recommendation.source.metrics.deadLettered;
    if (decodeDeadLetters > 0) byCode["DECODE"] = decodeDeadLetters;
    for (const c of enrichment.counters.badRecords)
      for (const [code, n] of c.byCode) byCode[code] = (byCode[code] ?? 0) + n;
    if (cleanup) {
      await admin.deleteTopics(Object.values(names.topics));
      await admin.deleteGroups([enrichmentGroup, recommendationGroup]);
      await cassandra.client.execute(
        `DROP KEYSPACE IF EXISTS ${names.keyspace}`,
      );
      await postgres.pool.query(
        `DROP SCHEMA IF EXISTS ${names.catalogSchema} CASCADE`,
      );
      await postgres.pool.query(
        `DROP SCHEMA IF EXISTS ${names.analyticsSchema} CASCADE`,
      );
    }
    return {
      names,
      produced,
      accepted,
      rejected,
      cdc: { published: stats.published, duplicates: stats.duplicates },
      enrichment: {
        dedupeHits: enrichment.counters.dedupe.hits,
        deadLetters: byCode,
      },
      recommendationsWritten: seen.recommendationsWritten,
      usersWithRecommendations: seen.recommendations.size,
      statsWindows: seen.movieStats.length,
      seconds,
      latencyMs: seen.latencyMs(),
      recommendations: seen.recommendations,
      updatesPerUser: seen.updatesPerUser,
      model,
      movieStats: seen.movieStats,
      catalog,
      allCommitted,
    };
  } finally {
    await w.close();
    await admin.close();
    await cassandra.close();
    await postgres.end();
    await rm(dir, { recursive: true, force: true });
  }
}
