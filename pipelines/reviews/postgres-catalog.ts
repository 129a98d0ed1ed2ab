import {
  migratePostgres,
  sqlDirectory,
  toPostgresError,
  upsertStatement,
  type MigrationResult,
  type PostgresPool,
} from "../../connectors/postgres/index.js";
import { inOrder, type MovieRepo, type UserRepo } from "./catalog-repo.js";
import type { Movie, User } from "./types.js";

/** Default schema of the movie and user tables. */
export const CATALOG_SCHEMA = "reviews_catalog";

/** Rows per upsert statement (5 columns each, far under the 65 535-parameter limit). */
const ROWS_PER_STATEMENT = 500;

const queries = sqlDirectory(
  new URL("./sql/", import.meta.url),
  "pipelines/reviews/sql",
);
const sql = (name: string, schema: string): string => queries(name, { schema });

/**
 * Creates the `movies` and `users` tables in their own schema from
 * `pipelines/reviews/migrations/` (numbered, postgrator, CockroachDB-compatible).
 *
 * @example
 * ```ts
 * await migrateCatalog(db, { schema: "reviews_catalog" }); // { applied: [1, 2], version: 2 }
 * ```
 */
export function migrateCatalog(
  db: PostgresPool,
  options: { readonly schema?: string } = {},
): Promise<MigrationResult> {
  return migratePostgres(db, {
    schema: options.schema ?? CATALOG_SCHEMA,
    directory: new URL("./migrations/", import.meta.url),
  });
}

const asNumber = (v: unknown): number => Number(v);

async function upsert(
  db: PostgresPool,
  what: string,
  shape: Parameters<typeof upsertStatement>[0],
  rows: readonly (readonly unknown[])[],
): Promise<void> {
  for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
    const chunk = rows.slice(i, i + ROWS_PER_STATEMENT);
    try {
      await db.pool.query(upsertStatement(shape, chunk.length), chunk.flat());
    } catch (error) {
      throw toPostgresError(error, what);
    }
  }
}

async function select<R>(
  db: PostgresPool,
  name: string,
  schema: string,
  ids: readonly number[],
  toItem: (row: Record<string, unknown>) => R,
  idOf: (item: R) => number,
): Promise<R[]> {
  if (ids.length === 0) return [];
  let rows: Record<string, unknown>[];
  try {
    rows = (await db.pool.query(sql(name, schema), [[...new Set(ids)]]))
      .rows as Record<string, unknown>[];
  } catch (error) {
    throw toPostgresError(error, `reviews ${name}`);
  }
  const byId = new Map(rows.map(toItem).map((item) => [idOf(item), item]));
  return inOrder(ids, (id) => byId.get(id));
}

/**
 * A {@link MovieRepo} on PostgreSQL or CockroachDB (table `movies` of
 * {@link migrateCatalog}); bulk reads are one `= ANY($1)` query, upserts `INSERT … ON
 * CONFLICT` where a row only replaces one with an older `updated_at`.
 *
 * @example
 * ```ts
 * const movies = postgresMovieRepo(db);
 * await movies.upsertMany(catalog.movies);
 * ```
 */
export function postgresMovieRepo(
  db: PostgresPool,
  schema: string = CATALOG_SCHEMA,
): MovieRepo {
  const shape = {
    schema,
    table: "movies",
    columns: ["movie_id", "title", "release_year", "genres", "updated_at"],
    keyColumns: ["movie_id"],
    updateColumns: ["title", "release_year", "genres", "updated_at"],
    versionColumn: "updated_at",
  };
  const toMovie = (row: Record<string, unknown>): Movie => ({
    movieId: asNumber(row["movie_id"]),
    title: row["title"] as string,
    releaseYear: (row["release_year"] as number | null) ?? null,
    genres: row["genres"] as string[],
    updatedAt: row["updated_at"] as Date,
  });
  const getMany = (ids: readonly number[]) =>
    select(db, "select-movies", schema, ids, toMovie, (m) => m.movieId);
  return {
    upsertMany: (movies) =>
      upsert(
        db,
        "reviews upsert movies",
        shape,
        movies.map((m) => [
          m.movieId,
          m.title,
          m.releaseYear,
          [...m.genres],
          m.updatedAt,
        ]),
      ),
    get: async (id) => (await getMany([id]))[0],
    getMany,
  };
}

/**
 * A {@link UserRepo} on PostgreSQL or CockroachDB (table `users` of {@link migrateCatalog}).
 *
 * @example
 * ```ts
 * const users = postgresUserRepo(db);
 * await users.getMany([1, 2, 3]);
 * ```
 */
export function postgresUserRepo(
  db: PostgresPool,
  schema: string = CATALOG_SCHEMA,
): UserRepo {
  const shape = {
    schema,
    table: "users",
    columns: [
      "user_id",
      "display_name",
      "country",
      "favorite_genres",
      "created_at",
    ],
    keyColumns: ["user_id"],
    updateColumns: ["display_name", "country", "favorite_genres", "created_at"],
    versionColumn: undefined,
  };
  const toUser = (row: Record<string, unknown>): User => ({
    userId: asNumber(row["user_id"]),
    displayName: row["display_name"] as string,
    country: (row["country"] as string | null) ?? null,
    favoriteGenres: row["favorite_genres"] as string[],
    createdAt: row["created_at"] as Date,
  });
  const getMany = (ids: readonly number[]) =>
    select(db, "select-users", schema, ids, toUser, (u) => u.userId);
  return {
    upsertMany: (users) =>
      upsert(
        db,
        "reviews upsert users",
        shape,
        users.map((u) => [
          u.userId,
          u.displayName,
          u.country,
          [...u.favoriteGenres],
          u.createdAt,
        ]),
      ),
    get: async (id) => (await getMany([id]))[0],
    getMany,
  };
}

/**
 * How many movies the catalogue holds (the catalogue job seeds an empty one).
 *
 * @example
 * ```ts
 * if ((await countMovies(db)) === 0) await postgresMovieRepo(db).upsertMany(catalog.movies);
 * ```
 */
export async function countMovies(
  db: PostgresPool,
  schema: string = CATALOG_SCHEMA,
): Promise<number> {
  try {
    const { rows } = await db.pool.query(sql("count-movies", schema));
    return asNumber((rows[0] as Record<string, unknown> | undefined)?.["n"]);
  } catch (error) {
    throw toPostgresError(error, `count ${schema}.movies`);
  }
}

/**
 * Every movie's id, title and genres: what the recommendation job needs to recommend movies
 * nobody has rated yet.
 *
 * @example
 * ```ts
 * recommend({ catalog: await allMovies(db, "reviews_catalog") });
 * ```
 */
export async function allMovies(
  db: PostgresPool,
  schema: string = CATALOG_SCHEMA,
): Promise<
  {
    readonly movieId: number;
    readonly title: string;
    readonly genres: readonly string[];
  }[]
> {
  try {
    const { rows } = await db.pool.query(sql("select-all-movies", schema));
    return (rows as Record<string, unknown>[]).map((row) => ({
      movieId: asNumber(row["movie_id"]),
      title: row["title"] as string,
      genres: row["genres"] as string[],
    }));
  } catch (error) {
    throw toPostgresError(error, `select ${schema}.movies`);
  }
}
