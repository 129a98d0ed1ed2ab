import {
  createCassandraClient,
  type CassandraClient,
} from "../../../connectors/cassandra/index.js";
import {
  kafkaAdmin,
  type KafkaAdmin,
} from "../../../connectors/kafka/index.js";
import {
  createPostgresPool,
  type PostgresPool,
} from "../../../connectors/postgres/index.js";
import type { Endpoints } from "../../../stack/index.js";
import { FIXTURE_MOVIES, FIXTURE_USERS } from "../fixtures.js";
import {
  migrateCatalog,
  postgresMovieRepo,
  postgresUserRepo,
} from "../postgres-catalog.js";
import type { stackRunNames } from "../stack-chain.js";
import {
  startCatalogServices,
  startReviewService,
  type localWiring,
} from "../stack-wiring.js";

type Names = ReturnType<typeof stackRunNames>;

/** The connections a reviews integration test holds on the real stack. */
export interface ReviewsStackConnections {
  readonly admin: KafkaAdmin;
  readonly cassandra: CassandraClient;
  readonly postgres: PostgresPool;
}

/**
 * Creates the run's topics, opens Kafka admin, Cassandra and PostgreSQL, and seeds the
 * catalogue schema with the fixture movies and users.
 */
export async function openReviewsStack(
  env: Endpoints,
  names: Names,
): Promise<ReviewsStackConnections> {
  const admin = kafkaAdmin({ brokers: env.kafkaBrokers });
  await admin.createTopics([
    { topic: names.topics.reviews, partitions: 2 },
    { topic: names.topics.enriched, partitions: 2 },
    { topic: names.topics.deadLetters, partitions: 1 },
  ]);
  const cassandra = createCassandraClient({
    contactPoints: env.cassandraContactPoints,
    localDataCenter: env.cassandraLocalDc,
    keyspace: names.keyspace,
  });
  const postgres = createPostgresPool({ connectionString: env.databaseUrl });
  await migrateCatalog(postgres, { schema: names.catalogSchema });
  await postgresMovieRepo(postgres, names.catalogSchema).upsertMany(
    FIXTURE_MOVIES,
  );
  await postgresUserRepo(postgres, names.catalogSchema).upsertMany(
    FIXTURE_USERS,
  );
  return { admin, cassandra, postgres };
}

/** Starts the review service and the movie and user services on free ports. */
export async function startReviewsServices(
  w: ReturnType<typeof localWiring>,
  c: Pick<ReviewsStackConnections, "cassandra" | "postgres">,
  names: Names,
): Promise<{
  readonly review: number;
  readonly movie: number;
  readonly user: number;
}> {
  const reviewServer = await startReviewService(w, {
    cassandra: c.cassandra,
    keyspace: names.keyspace,
    port: 0,
  });
  const { movieServer, userServer } = await startCatalogServices(w, {
    postgres: c.postgres,
    schema: names.catalogSchema,
    moviePort: 0,
    userPort: 0,
    seed: { movies: 1, users: 1, seed: 1 },
  });
  return {
    review: reviewServer.port,
    movie: movieServer.port,
    user: userServer.port,
  };
}

/** Drops what the run created (groups, topics, keyspace, schemas) and closes the connections. */
export async function closeReviewsStack(
  c: Partial<ReviewsStackConnections>,
  names: Names,
  groups: readonly string[] = [],
): Promise<void> {
  if (groups.length > 0)
    await c.admin?.deleteGroups(groups).catch(() => undefined);
  await c.admin?.deleteTopics(Object.values(names.topics));
  await c.admin?.close();
  await c.cassandra?.client.execute(
    `DROP KEYSPACE IF EXISTS ${names.keyspace}`,
  );
  await c.cassandra?.close();
  await c.postgres?.pool.query(
    `DROP SCHEMA IF EXISTS ${names.catalogSchema} CASCADE`,
  );
  await c.postgres?.pool.query(
    `DROP SCHEMA IF EXISTS ${names.analyticsSchema} CASCADE`,
  );
  await c.postgres?.end();
}
