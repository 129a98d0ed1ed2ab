import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createPostgresPool,
  type PostgresPool,
} from "../../connectors/postgres/index.js";
import { requireServices } from "../../stack/index.js";
import { generateCatalog } from "./catalog.js";
import type { MovieRepo, UserRepo } from "./catalog-repo.js";
import { FIXTURE_MOVIES, FIXTURE_USERS } from "./fixtures.js";
import {
  migrateCatalog,
  postgresMovieRepo,
  postgresUserRepo,
} from "./postgres-catalog.js";
import {
  movieServiceClient,
  serveMovieService,
  serveUserService,
  userServiceClient,
} from "./services.js";

// One schema per run of this file, dropped in afterAll.
const schema = `reviews_it_${randomBytes(4).toString("hex")}`;
let db: PostgresPool | undefined;
let movies: MovieRepo;
let users: UserRepo;
const catalog = generateCatalog({ movies: 700, users: 400, seed: 8 });

beforeAll(async () => {
  const env = await requireServices(["postgres"]);
  db = createPostgresPool({ connectionString: env.databaseUrl, schema });
  expect(await migrateCatalog(db, { schema })).toEqual({
    applied: [1, 2],
    version: 2,
  });
  movies = postgresMovieRepo(db, schema);
  users = postgresUserRepo(db, schema);
});

afterAll(async () => {
  if (db === undefined) return;
  try {
    await db.pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await db.end();
  }
});

describe("the PostgreSQL movie and user repos", () => {
  it("migrate once: a second run applies nothing", async () => {
    expect(await migrateCatalog(db!, { schema })).toEqual({
      applied: [],
      version: 2,
    });
  });

  it("store the fixtures and serve them back unchanged, null fields included", async () => {
    await movies.upsertMany(FIXTURE_MOVIES);
    await users.upsertMany(FIXTURE_USERS);
    expect(await movies.get(6)).toEqual(FIXTURE_MOVIES[5]); // releaseYear null
    expect(await users.get(3)).toEqual(FIXTURE_USERS[2]); // country null
    expect(await movies.get(9999)).toBeUndefined();
    expect(
      (await movies.getMany([4, 9999, 1, 4])).map((m) => m.movieId),
    ).toEqual([4, 1]);
    expect(await users.getMany([])).toEqual([]);
  });

  it("seed a generated catalogue in bulk (more rows than one statement) and read it in bulk", async () => {
    await movies.upsertMany(catalog.movies);
    await users.upsertMany(catalog.users);
    expect(await movies.getMany(catalog.movies.map((m) => m.movieId))).toEqual(
      catalog.movies,
    );
    expect(await users.getMany(catalog.users.map((u) => u.userId))).toEqual(
      catalog.users,
    );
  });

  it("keep the newer movie when an older update arrives late", async () => {
    const movie = catalog.movies[0]!;
    const newer = {
      ...movie,
      title: "Renamed",
      updatedAt: new Date(movie.updatedAt.getTime() + 60_000),
    };
    await movies.upsertMany([newer]);
    await movies.upsertMany([{ ...movie, title: "Stale" }]);
    expect(await movies.get(movie.movieId)).toEqual(newer);
  });

  it("are served over Avro RPC with the MovieService and UserService protocols", async () => {
    const m = await serveMovieService(movies);
    const u = await serveUserService(users);
    const movieClient = await movieServiceClient({ port: m.port });
    const userClient = await userServiceClient({ port: u.port });
    try {
      const ids = catalog.movies.slice(100, 150).map((x) => x.movieId);
      expect(await movieClient.getMany(ids)).toEqual(
        catalog.movies.slice(100, 150),
      );
      expect(await movieClient.get(123_456)).toBeUndefined();
      expect(await userClient.get(7)).toEqual(catalog.users[6]);
      expect(
        (await userClient.getMany([3, 1, 2])).map((x) => x.userId),
      ).toEqual([3, 1, 2]);
    } finally {
      await movieClient.close();
      await userClient.close();
      await m.close();
      await u.close();
    }
  });
});
