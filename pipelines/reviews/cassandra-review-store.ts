import cassandra from "cassandra-driver";
import {
  toCassandraError,
  type CassandraClient,
  type Replication,
} from "../../connectors/cassandra/index.js";
import { reviewsCql } from "./cql.js";
import type { ReviewStore } from "./review-store.js";
import type { Review } from "./types.js";
import { validateReview } from "./validate.js";

/** Reads at most this many reviews at once in `latestMany` (single-partition reads). */
const READ_CONCURRENCY = 32;

/** The schema files applied by {@link applyReviewsSchema}, in order. */
export const REVIEWS_CQL_SCHEMA = [
  "create-keyspace",
  "create-reviews",
] as const;

/** Where the reviews table lives. */
export interface ReviewsSchemaOptions {
  readonly keyspace: string;
  /** Default: the client's replication. */
  readonly replication?: Replication;
}

/**
 * Creates the keyspace and the `reviews` table (`WITH cdc = true`, one partition per review,
 * one row per version, newest first) with `IF NOT EXISTS`: safe at every start.
 *
 * @example
 * ```ts
 * await applyReviewsSchema(db, { keyspace: "reviews" });
 * ```
 */
export async function applyReviewsSchema(
  db: CassandraClient,
  options: ReviewsSchemaOptions,
): Promise<void> {
  await db.connect();
  const names = {
    keyspace: options.keyspace,
    replication: options.replication ?? db.options.replication,
  };
  for (const file of REVIEWS_CQL_SCHEMA) {
    try {
      await db.client.execute(reviewsCql(file, names), [], { prepare: false });
    } catch (error) {
      throw toCassandraError(error, `reviews schema ${file}.cql`);
    }
  }
}

const long = (v: unknown): number =>
  v instanceof cassandra.types.Long ? v.toNumber() : Number(v);

function toReview(row: cassandra.types.Row): Review {
  return {
    reviewId: String(row.get("review_id")),
    movieId: long(row.get("movie_id")),
    userId: long(row.get("user_id")),
    rating: row.get("rating") as number,
    text: (row.get("text") as string | null) ?? null,
    createdAt: row.get("created_at") as Date,
    updatedAt: row.get("updated_at") as Date,
    version: long(row.get("version")),
  };
}

/**
 * A {@link ReviewStore} on Cassandra. Each version is its own row under the review's
 * partition (`PRIMARY KEY ((review_id), version)`, newest first), so a write never reads
 * first, a replayed or late older version cannot hide a newer one, the CDC log sees every
 * change, and `latest` is a one-row single-partition read. The table must exist
 * ({@link applyReviewsSchema}).
 *
 * @example
 * ```ts
 * const store = cassandraReviewStore(db, "reviews");
 * await store.put(review);
 * await store.latestMany([a, b]);
 * ```
 */
export function cassandraReviewStore(
  db: CassandraClient,
  keyspace: string,
): ReviewStore {
  const insert = reviewsCql("insert-review", { keyspace });
  const select = reviewsCql("select-latest-review", { keyspace });
  const latest = async (reviewId: string): Promise<Review | undefined> => {
    let result: cassandra.types.ResultSet;
    try {
      await db.connect();
      result = await db.client.execute(select, [reviewId], { prepare: true });
    } catch (error) {
      throw toCassandraError(error, "reviews select-latest-review");
    }
    const row = result.first() as cassandra.types.Row | null;
    return row === null ? undefined : toReview(row);
  };
  return {
    async put(review) {
      const r = validateReview(review);
      try {
        await db.connect();
        await db.client.execute(
          insert,
          [
            r.reviewId,
            cassandra.types.Long.fromNumber(r.version),
            cassandra.types.Long.fromNumber(r.movieId),
            cassandra.types.Long.fromNumber(r.userId),
            r.rating,
            r.text,
            r.createdAt,
            r.updatedAt,
          ],
          { prepare: true },
        );
      } catch (error) {
        throw toCassandraError(error, "reviews insert-review");
      }
    },
    latest,
    async latestMany(reviewIds) {
      const out: (Review | undefined)[] = [];
      for (let i = 0; i < reviewIds.length; i += READ_CONCURRENCY)
        out.push(
          ...(await Promise.all(
            reviewIds.slice(i, i + READ_CONCURRENCY).map(latest),
          )),
        );
      return out.filter((r): r is Review => r !== undefined);
    },
  };
}
