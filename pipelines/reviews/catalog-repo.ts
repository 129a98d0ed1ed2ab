import type { Movie, User } from "./types.js";

/** Reads movies by id: what the enrichment job needs (a repo or a movie-service client). */
export interface MovieLookup {
  /** One movie, or `undefined` when no movie has this id. */
  get(movieId: number): Promise<Movie | undefined>;
  /** Every movie found, once each, in the order of the ids asked; missing ids are left out. */
  getMany(movieIds: readonly number[]): Promise<Movie[]>;
}

/** Where the movie service keeps movies (seed C.2.1). */
export interface MovieRepo extends MovieLookup {
  /** Inserts or replaces movies by id (idempotent). */
  upsertMany(movies: readonly Movie[]): Promise<void>;
}

/** Reads users by id: what the enrichment job needs (a repo or a user-service client). */
export interface UserLookup {
  /** One user, or `undefined` when no user has this id. */
  get(userId: number): Promise<User | undefined>;
  /** Every user found, once each, in the order of the ids asked; missing ids are left out. */
  getMany(userIds: readonly number[]): Promise<User[]>;
}

/** Where the user service keeps users (seed C.2.2). */
export interface UserRepo extends UserLookup {
  /** Inserts or replaces users by id (idempotent). */
  upsertMany(users: readonly User[]): Promise<void>;
}

/**
 * Picks the found items for `ids`, once each, in the order asked.
 *
 * @example
 * ```ts
 * inOrder([3, 1, 3], (id) => byId.get(id)); // [item 3, item 1]
 * ```
 */
export function inOrder<T>(
  ids: readonly number[],
  find: (id: number) => T | undefined,
): T[] {
  const seen = new Set<number>();
  const out: T[] = [];
  for (const id of ids) {
    if (seen.has(id)) continue;
    seen.add(id);
    const item = find(id);
    if (item !== undefined) out.push(item);
  }
  return out;
}

function memoryRepo<T, K extends keyof T>(key: K, initial: readonly T[]) {
  const byId = new Map<number, T>();
  const put = (items: readonly T[]): void => {
    for (const item of items) byId.set(item[key] as number, item);
  };
  put(initial);
  return {
    get size() {
      return byId.size;
    },
    upsertMany: (items: readonly T[]) => {
      put(items);
      return Promise.resolve();
    },
    get: (id: number) => Promise.resolve(byId.get(id)),
    getMany: (ids: readonly number[]) =>
      Promise.resolve(inOrder(ids, (id) => byId.get(id))),
  };
}

/**
 * A {@link MovieRepo} in a `Map`, for the embedded demo and unit tests.
 *
 * @example
 * ```ts
 * const movies = memoryMovieRepo(generateCatalog().movies);
 * await movies.getMany([1, 2]);
 * ```
 */
export function memoryMovieRepo(
  initial: readonly Movie[] = [],
): MovieRepo & { readonly size: number } {
  return memoryRepo<Movie, "movieId">("movieId", initial);
}

/**
 * A {@link UserRepo} in a `Map`, for the embedded demo and unit tests.
 *
 * @example
 * ```ts
 * const users = memoryUserRepo(FIXTURE_USERS);
 * await users.get(1);
 * ```
 */
export function memoryUserRepo(
  initial: readonly User[] = [],
): UserRepo & { readonly size: number } {
  return memoryRepo<User, "userId">("userId", initial);
}
