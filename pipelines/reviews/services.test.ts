import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadProtocol, tcpClient, type RpcServer } from "../../avro/index.js";
import { generateCatalog } from "./catalog.js";
import { memoryMovieRepo, memoryUserRepo } from "./catalog-repo.js";
import {
  FIXTURE_MALFORMED,
  FIXTURE_MOVIES,
  FIXTURE_REVIEWS,
  FIXTURE_UPDATE,
  FIXTURE_USERS,
} from "./fixtures.js";
import { memoryReviewStore } from "./review-store.js";
import {
  movieServiceClient,
  reviewServiceClient,
  serveMovieService,
  serveReviewService,
  serveUserService,
  userServiceClient,
  type ReviewServiceMethods,
} from "./services.js";

const servers: RpcServer[] = [];
const closers: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const close of closers) await close();
  for (const s of servers) await s.close();
});

describe.each(["tcp", "http"] as const)("over %s", (transport) => {
  const store = memoryReviewStore();
  let reviews: Awaited<ReturnType<typeof reviewServiceClient>>;
  let movies: Awaited<ReturnType<typeof movieServiceClient>>;
  let users: Awaited<ReturnType<typeof userServiceClient>>;
  let reviewPort = 0;

  beforeAll(async () => {
    const r = await serveReviewService(store, { port: 0, transport });
    const m = await serveMovieService(memoryMovieRepo(FIXTURE_MOVIES), {
      transport,
    });
    const u = await serveUserService(memoryUserRepo(FIXTURE_USERS), {
      transport,
    });
    servers.push(r, m, u);
    reviewPort = r.port;
    reviews = await reviewServiceClient({ port: r.port, transport });
    movies = await movieServiceClient({ port: m.port, transport });
    users = await userServiceClient({ port: u.port, transport });
    closers.push(
      () => reviews.close(),
      () => movies.close(),
      () => users.close(),
    );
  });

  it("submits reviews and serves the latest version by id", async () => {
    for (const r of FIXTURE_REVIEWS) await reviews.put(r);
    await reviews.put(FIXTURE_UPDATE);
    await reviews.put(FIXTURE_REVIEWS[2]!); // a late replay of version 1
    expect(await reviews.latest(FIXTURE_UPDATE.reviewId)).toEqual(
      FIXTURE_UPDATE,
    );
    expect(await store.latest(FIXTURE_UPDATE.reviewId)).toEqual(FIXTURE_UPDATE);
    expect(
      await reviews.latestMany([
        FIXTURE_REVIEWS[0]!.reviewId,
        FIXTURE_UPDATE.reviewId,
        "00000000-0000-4000-8000-999999999999",
      ]),
    ).toEqual([FIXTURE_REVIEWS[0], FIXTURE_UPDATE]);
    expect(await reviews.latestMany([])).toEqual([]);
  });

  it("answers undefined for an unknown review id", async () => {
    expect(
      await reviews.latest("00000000-0000-4000-8000-999999999999"),
    ).toBeUndefined();
  });

  it("rejects a malformed review in the client, naming the field", async () => {
    await expect(reviews.put(FIXTURE_MALFORMED)).rejects.toMatchObject({
      code: "VALIDATE",
      context: { field: "rating" },
      message: "review.rating must be at most 5",
    });
  });

  it("serves movies and users one by one and in bulk", async () => {
    expect(await movies.get(1)).toEqual(FIXTURE_MOVIES[0]);
    expect(await movies.get(99)).toBeUndefined();
    expect((await movies.getMany([6, 99, 2])).map((m) => m.movieId)).toEqual([
      6, 2,
    ]);
    expect(await movies.getMany([])).toEqual([]);
    expect(await users.get(3)).toEqual(FIXTURE_USERS[2]);
    expect(await users.get(42)).toBeUndefined();
    expect(await users.getMany([1, 2, 3, 1])).toEqual(FIXTURE_USERS);
  });

  if (transport === "tcp")
    it("answers a raw client that skips validation with InvalidReview naming the field", async () => {
      const raw = tcpClient<ReviewServiceMethods>(
        await loadProtocol("ReviewService"),
        { port: reviewPort },
      );
      closers.push(() => raw.close());
      const result = await raw.call("submitReview", {
        review: { ...FIXTURE_REVIEWS[0]!, version: 0 },
      });
      expect(result).toEqual({
        ok: false,
        error: {
          name: "InvalidReview",
          value: {
            field: "version",
            message: "review.version must be at least 1",
          },
        },
      });
    });
});

describe("a generated catalogue over RPC", () => {
  it("round-trips every movie and user unchanged in one bulk call each", async () => {
    const catalog = generateCatalog({ movies: 200, users: 300, seed: 4 });
    const m = await serveMovieService(memoryMovieRepo(catalog.movies));
    const u = await serveUserService(memoryUserRepo(catalog.users));
    servers.push(m, u);
    const movies = await movieServiceClient({ port: m.port });
    const users = await userServiceClient({ port: u.port });
    closers.push(
      () => movies.close(),
      () => users.close(),
    );
    expect(await movies.getMany(catalog.movies.map((x) => x.movieId))).toEqual(
      catalog.movies,
    );
    expect(await users.getMany(catalog.users.map((x) => x.userId))).toEqual(
      catalog.users,
    );
  });
});
