import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  closeReviewsStack,
  openReviewsStack,
} from "./testing/stack-fixture.js";
import { type CassandraClient } from "../../connectors/cassandra/index.js";
import { type KafkaAdmin } from "../../connectors/kafka/index.js";
import { type PostgresPool } from "../../connectors/postgres/index.js";
import { requireServices, type Endpoints } from "../../stack/index.js";
import { uniqueName, waitFor } from "../../stack/smoke/wait.js";
import { FIXTURE_REVIEWS, FIXTURE_USERS } from "./fixtures.js";
import { reviewServiceClient } from "./services.js";
import { stackRunNames } from "./stack-chain.js";
import {
  localWiring,
  startCatalogServices,
  startCdc,
  startEnrichment,
  startRecommendation,
  startReviewService,
} from "./stack-wiring.js";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

const runId = uniqueName("it").replace(/[^a-z0-9_]/g, "");
const names = stackRunNames(runId);
let env: Endpoints;
let admin: KafkaAdmin;
let cassandra: CassandraClient;
let postgres: PostgresPool;
let dir: string;

beforeAll(async () => {
  env = await requireServices(["kafka", "cassandra", "postgres", "memcached"]);
  ({ admin, cassandra, postgres } = await openReviewsStack(env, names));
  dir = await mkdtemp(join(tmpdir(), "sluice-reviews-it-"));
});

afterAll(async () => {
  await closeReviewsStack({ admin, cassandra, postgres }, names, []);
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe("the reviews chain on the real stack", () => {
  it("turns the fixture reviews into the hand-checked recommendations in Cassandra and PostgreSQL", async () => {
    const w = localWiring();
    try {
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
        seed: { movies: 1, users: 1, seed: 1 },
      });
      await startCdc(w, {
        brokers: env.kafkaBrokers,
        contactPoints: env.cassandraContactPoints,
        localDataCenter: env.cassandraLocalDc,
        keyspace: names.keyspace,
        topic: names.topics.reviews,
        positionFile: join(dir, "position.json"),
      });
      const at = (port: number) => ({ host: "127.0.0.1", port });
      await startEnrichment(w, {
        brokers: env.kafkaBrokers,
        group: `enrich-${runId}`,
        topic: names.topics.reviews,
        enrichedTopic: names.topics.enriched,
        deadLetterTopic: names.topics.deadLetters,
        reviewService: at(reviewServer.port),
        movieService: at(movieServer.port),
        userService: at(userServer.port),
        memcachedServers: env.memcachedServers,
        dedupeKeyPrefix: `enrich-${runId}:`,
        dedupeTtlMs: 3_600_000,
      });
      await startRecommendation(w, {
        brokers: env.kafkaBrokers,
        group: `recommend-${runId}`,
        enrichedTopic: names.topics.enriched,
        deadLetterTopic: names.topics.deadLetters,
        cassandra,
        keyspace: names.keyspace,
        postgres,
        analyticsSchema: names.analyticsSchema,
        catalogSchema: names.catalogSchema,
        memcachedServers: env.memcachedServers,
        dedupeKeyPrefix: `recommend-${runId}:`,
        dedupeTtlMs: 3_600_000,
        topK: 3,
      });
      const client = await reviewServiceClient(at(reviewServer.port));
      w.onShutdown(() => client.close());
      for (const r of FIXTURE_REVIEWS) await client.put(r);

      const rows = await waitFor(
        "every fixture user's recommendations in PostgreSQL",
        async () => {
          const { rows } = await postgres.pool.query(
            `SELECT user_id, titles FROM ${names.analyticsSchema}.user_recommendations ORDER BY user_id`,
          );
          return rows.length === FIXTURE_USERS.length
            ? (rows as { user_id: string; titles: string[] }[])
            : undefined;
        },
        45_000,
      );
      const titles = new Map(rows.map((r) => [Number(r.user_id), r.titles]));
      await waitFor(
        "Ana's final recommendations",
        async () => {
          const { rows } = await postgres.pool.query(
            `SELECT titles FROM ${names.analyticsSchema}.user_recommendations WHERE user_id = 1`,
          );
          return (rows[0] as { titles: string[] } | undefined)?.titles[0] ===
            "Night Train Heist"
            ? true
            : undefined;
        },
        20_000,
      );
      expect(titles.get(3)?.[0]).toBe("The Last Starship");
      const cass = await cassandra.client.execute(
        `SELECT user_id, titles FROM ${names.keyspace}.user_recommendations`,
      );
      expect(cass.rows.length).toBe(FIXTURE_USERS.length);
      const stats = await waitFor(
        "every fixture review counted in movie_rating_stats",
        async () => {
          const { rows } = await postgres.pool.query(
            `SELECT sum(reviews)::int AS n FROM ${names.analyticsSchema}.movie_rating_stats`,
          );
          const n = (rows[0] as { n: number | null } | undefined)?.n ?? 0;
          return n >= FIXTURE_REVIEWS.length ? n : undefined;
        },
        30_000,
      );
      expect(stats).toBe(FIXTURE_REVIEWS.length);
    } finally {
      await w.close();
    }
  }, 90_000);
});
