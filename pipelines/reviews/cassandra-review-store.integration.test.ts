import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createCassandraClient,
  type CassandraClient,
} from "../../connectors/cassandra/index.js";
import { requireServices } from "../../stack/index.js";
import {
  applyReviewsSchema,
  cassandraReviewStore,
} from "./cassandra-review-store.js";
import {
  FIXTURE_MALFORMED,
  FIXTURE_REVIEWS,
  FIXTURE_UPDATE,
} from "./fixtures.js";
import { generateReviews, take } from "./producer.js";
import type { ReviewStore } from "./review-store.js";
import { reviewServiceClient, serveReviewService } from "./services.js";

// One keyspace per run of this file, dropped in afterAll.
const keyspace = `reviews_it_${randomBytes(4).toString("hex")}`;
let db: CassandraClient | undefined;
let store: ReviewStore;

beforeAll(async () => {
  const env = await requireServices(["cassandra"]);
  db = createCassandraClient({
    contactPoints: [...env.cassandraContactPoints],
    localDataCenter: env.cassandraLocalDc,
    keyspace,
  });
  await applyReviewsSchema(db, { keyspace });
  store = cassandraReviewStore(db, keyspace);
});

afterAll(async () => {
  if (db === undefined) return;
  try {
    await db.client.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`);
  } finally {
    await db.close();
  }
});

const client = (): CassandraClient => {
  if (db === undefined) throw new Error("client not created in beforeAll");
  return db;
};

describe("the Cassandra review store", () => {
  it("creates the reviews table with cdc = true, and can apply the schema again", async () => {
    await applyReviewsSchema(client(), { keyspace });
    const rs = await client().client.execute(
      "SELECT cdc FROM system_schema.tables WHERE keyspace_name = ? AND table_name = 'reviews'",
      [keyspace],
    );
    expect(rs.rows.map((r) => r.get("cdc") as boolean)).toEqual([true]);
  });

  it("stores a review and serves it back unchanged", async () => {
    for (const r of FIXTURE_REVIEWS) await store.put(r);
    for (const r of FIXTURE_REVIEWS)
      expect(await store.latest(r.reviewId)).toEqual(r);
    expect(
      await store.latest("00000000-0000-4000-8000-999999999999"),
    ).toBeUndefined();
  });

  it("serves the latest version, even when an older version is written after it", async () => {
    await store.put(FIXTURE_UPDATE);
    await store.put(FIXTURE_REVIEWS[2]!); // a late replay of version 1
    expect(await store.latest(FIXTURE_UPDATE.reviewId)).toEqual(FIXTURE_UPDATE);
    const versions = await client().client.execute(
      `SELECT version FROM ${keyspace}.reviews WHERE review_id = ?`,
      [FIXTURE_UPDATE.reviewId],
      { prepare: true },
    );
    expect(versions.rows.map((r) => Number(r.get("version")))).toEqual([2, 1]);
  });

  it("answers latestMany in the order asked, leaving out unknown ids", async () => {
    const produced = take(generateReviews({ seed: 21 }), 100).map(
      (p) => p.review,
    );
    for (const r of produced) await store.put(r);
    const latest = new Map(produced.map((r) => [r.reviewId, r]));
    const ids = [...latest.keys()].reverse();
    expect(
      await store.latestMany([...ids, "00000000-0000-4000-8000-999999999999"]),
    ).toEqual(ids.map((id) => latest.get(id)));
  });

  it("rejects a malformed review naming the field, writing nothing", async () => {
    await expect(store.put(FIXTURE_MALFORMED)).rejects.toMatchObject({
      code: "VALIDATE",
      context: { field: "rating" },
    });
    expect(await store.latest(FIXTURE_MALFORMED.reviewId)).toBeUndefined();
  });

  it("is served over Avro RPC: submit, then the latest version by id", async () => {
    const server = await serveReviewService(store, { port: 0 });
    const reviews = await reviewServiceClient({ port: server.port });
    try {
      const [first] = take(generateReviews({ seed: 99 }), 1);
      const review = first!.review;
      await reviews.put(review);
      await reviews.put({
        ...review,
        rating: 1,
        version: 2,
        updatedAt: new Date(review.updatedAt.getTime() + 1000),
      });
      expect(await reviews.latest(review.reviewId)).toMatchObject({
        version: 2,
        rating: 1,
      });
      expect(await reviews.latestMany([review.reviewId])).toHaveLength(1);
    } finally {
      await reviews.close();
      await server.close();
    }
  });
});
