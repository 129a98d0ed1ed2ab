import { describe, expect, it } from "vitest";
import { memoryMovieRepo, memoryUserRepo } from "./catalog-repo.js";
import {
  FIXTURE_MALFORMED,
  FIXTURE_MOVIES,
  FIXTURE_REVIEWS,
  FIXTURE_UPDATE,
  FIXTURE_USERS,
} from "./fixtures.js";
import { memoryReviewStore } from "./review-store.js";
import type { Review } from "./types.js";

const original = FIXTURE_REVIEWS[2]!;

describe("memoryReviewStore", () => {
  it("serves what was put, and nothing for an unknown id", async () => {
    const store = memoryReviewStore();
    for (const r of FIXTURE_REVIEWS) await store.put(r);
    expect(store.size).toBe(12);
    expect(await store.latest(original.reviewId)).toEqual(original);
    expect(
      await store.latest("00000000-0000-4000-8000-999999999999"),
    ).toBeUndefined();
  });

  it("keeps the latest version, whatever order versions arrive in", async () => {
    const store = memoryReviewStore();
    await store.put(FIXTURE_UPDATE);
    await store.put(original);
    expect(await store.latest(original.reviewId)).toEqual(FIXTURE_UPDATE);
    const other = memoryReviewStore();
    await other.put(original);
    await other.put(FIXTURE_UPDATE);
    await other.put(original); // a replay of version 1
    expect(await other.latest(original.reviewId)).toEqual(FIXTURE_UPDATE);
  });

  it("answers latestMany in the order asked, leaving out unknown ids", async () => {
    const store = memoryReviewStore();
    for (const r of FIXTURE_REVIEWS) await store.put(r);
    const [a, b] = [FIXTURE_REVIEWS[5]!, FIXTURE_REVIEWS[1]!];
    expect(
      await store.latestMany([
        a.reviewId,
        "00000000-0000-4000-8000-999999999999",
        b.reviewId,
      ]),
    ).toEqual([a, b]);
    expect(await store.latestMany([])).toEqual([]);
  });

  it("rejects a malformed review with a VALIDATE error naming the field, storing nothing", async () => {
    const writes: Review[] = [];
    const store = memoryReviewStore({ onWrite: (r) => writes.push(r) });
    await expect(store.put(FIXTURE_MALFORMED)).rejects.toMatchObject({
      code: "VALIDATE",
      context: { field: "rating" },
    });
    expect(store.size).toBe(0);
    expect(writes).toEqual([]);
  });

  it("reports every accepted write to onWrite, stale versions included (like a CDC log)", async () => {
    const writes: Review[] = [];
    const store = memoryReviewStore({ onWrite: (r) => writes.push(r) });
    await store.put(FIXTURE_UPDATE);
    await store.put(original);
    expect(writes.map((w) => w.version)).toEqual([2, 1]);
  });
});

describe("memory movie and user repos", () => {
  it("get one by id, or undefined", async () => {
    const movies = memoryMovieRepo(FIXTURE_MOVIES);
    const users = memoryUserRepo(FIXTURE_USERS);
    expect(await movies.get(3)).toEqual(FIXTURE_MOVIES[2]);
    expect(await movies.get(99)).toBeUndefined();
    expect(await users.get(2)).toEqual(FIXTURE_USERS[1]);
    expect(await users.get(0)).toBeUndefined();
  });

  it("getMany answers once per id, in the order asked, without the missing", async () => {
    const movies = memoryMovieRepo(FIXTURE_MOVIES);
    expect((await movies.getMany([5, 99, 1, 5])).map((m) => m.movieId)).toEqual(
      [5, 1],
    );
    expect(await movies.getMany([])).toEqual([]);
  });

  it("upsertMany replaces by id", async () => {
    const users = memoryUserRepo();
    await users.upsertMany(FIXTURE_USERS);
    await users.upsertMany([{ ...FIXTURE_USERS[0]!, country: "PT" }]);
    expect(users.size).toBe(3);
    expect((await users.get(1))?.country).toBe("PT");
  });
});
