/**
 * The review, movie and user services over Avro RPC (seed C.3.1, C.3.2, C.3.3, C.6.1), each
 * a thin server around a store or repo, and typed clients that implement the same read
 * interfaces, so the enrichment job takes a repo in the demo and a client in production.
 */
import {
  httpClient,
  loadProtocol,
  RpcDeclaredError,
  serveHttp,
  serveTcp,
  tcpClient,
  type RpcClient,
  type RpcMethod,
  type RpcServer,
} from "../../avro/index.js";
import { SluiceError } from "../../operators/sluice-error.js";
import type { MovieLookup, UserLookup } from "./catalog-repo.js";
import type { ReviewStore } from "./review-store.js";
import type { Movie, Review, User } from "./types.js";
import { checkReview } from "./validate.js";

/** The messages of `avro/protocols/ReviewService.avdl`. */
export type ReviewServiceMethods = {
  submitReview: RpcMethod<
    { review: Review },
    null,
    { InvalidReview: { field: string; message: string } }
  >;
  getReview: RpcMethod<
    { reviewId: string },
    Review,
    { ReviewNotFound: { reviewId: string } }
  >;
  getReviews: RpcMethod<{ reviewIds: string[] }, Review[]>;
};

/** The messages of `avro/protocols/MovieService.avdl`. */
export type MovieServiceMethods = {
  getMovie: RpcMethod<
    { movieId: number },
    Movie,
    { MovieNotFound: { movieId: number } }
  >;
  getMovies: RpcMethod<{ movieIds: number[] }, Movie[]>;
};

/** The messages of `avro/protocols/UserService.avdl`. */
export type UserServiceMethods = {
  getUser: RpcMethod<
    { userId: number },
    User,
    { UserNotFound: { userId: number } }
  >;
  getUsers: RpcMethod<{ userIds: number[] }, User[]>;
};

/** Where a service listens. */
export interface ServiceOptions {
  /** Default 0 (a free port; read it from the returned server). */
  readonly port?: number;
  /** Default `127.0.0.1`. */
  readonly host?: string;
  /** `tcp` (one long-lived connection per client, default) or `http` (one POST per call). */
  readonly transport?: "tcp" | "http";
  /** Sees errors the client only sees as "internal server error". */
  readonly onError?: (error: unknown) => void;
}

/** Where a client connects. */
export interface ServiceClientOptions {
  readonly port: number;
  /** Default `127.0.0.1`. */
  readonly host?: string;
  /** Must match the server's. Default `tcp`. */
  readonly transport?: "tcp" | "http";
  /** Per-call timeout, ms. Default 5000. */
  readonly timeoutMs?: number;
}

/** A service client: the lookup interface plus `close`. */
export interface Closable {
  /** Closes the connection; idempotent. */
  close(): Promise<void>;
}

async function serve<
  M extends { [name: string]: RpcMethod<object, unknown, object> },
>(
  protocolName: string,
  handlers: Parameters<typeof serveTcp<M>>[1],
  options: ServiceOptions,
): Promise<RpcServer> {
  const protocol = await loadProtocol(protocolName);
  const o = {
    port: options.port ?? 0,
    host: options.host ?? "127.0.0.1",
    ...(options.onError === undefined ? {} : { onError: options.onError }),
  };
  return options.transport === "http"
    ? serveHttp<M>(protocol, handlers, o)
    : serveTcp<M>(protocol, handlers, o);
}

async function connect<
  M extends { [name: string]: RpcMethod<object, unknown, object> },
>(protocolName: string, options: ServiceClientOptions): Promise<RpcClient<M>> {
  const protocol = await loadProtocol(protocolName);
  const o = {
    port: options.port,
    host: options.host ?? "127.0.0.1",
    ...(options.timeoutMs === undefined
      ? {}
      : { timeoutMs: options.timeoutMs }),
  };
  return options.transport === "http"
    ? httpClient<M>(protocol, o)
    : tcpClient<M>(protocol, o);
}

/**
 * Serves a {@link ReviewStore} as `ReviewService`: `submitReview` validates (a bad review
 * is answered with `InvalidReview` naming the field) and writes; `getReview` and
 * `getReviews` read the latest versions.
 *
 * @example
 * ```ts
 * const server = await serveReviewService(memoryReviewStore(), { port: 0 });
 * const reviews = await reviewServiceClient({ port: server.port });
 * ```
 */
export function serveReviewService(
  store: ReviewStore,
  options: ServiceOptions = {},
): Promise<RpcServer> {
  return serve<ReviewServiceMethods>(
    "ReviewService",
    {
      submitReview: async ({ review }) => {
        const checked = checkReview(review);
        if (!checked.ok)
          throw new RpcDeclaredError("InvalidReview", {
            field: checked.error.context.field ?? "",
            message: checked.error.message,
          });
        await store.put(checked.review);
        return null;
      },
      getReview: async ({ reviewId }) => {
        const found = await store.latest(reviewId);
        if (found === undefined)
          throw new RpcDeclaredError("ReviewNotFound", { reviewId });
        return found;
      },
      getReviews: ({ reviewIds }) => store.latestMany(reviewIds),
    },
    options,
  );
}

/**
 * A typed `ReviewService` client that is itself a {@link ReviewStore}: `put` rejects with a
 * `VALIDATE` SluiceError naming the field (checked before sending, and again by the server).
 *
 * @example
 * ```ts
 * const reviews = await reviewServiceClient({ port: 7003 });
 * const latest = await reviews.latestMany(ids); // one round trip
 * ```
 */
export async function reviewServiceClient(
  options: ServiceClientOptions,
): Promise<ReviewStore & Closable> {
  const client = await connect<ReviewServiceMethods>("ReviewService", options);
  return {
    async put(review) {
      const checked = checkReview(review);
      if (!checked.ok) throw checked.error;
      const result = await client.call("submitReview", {
        review: checked.review,
      });
      if (!result.ok)
        throw new SluiceError("VALIDATE", result.error.value.message, {
          context: {
            stage: "validate",
            field: result.error.value.field,
            key: review.reviewId,
          },
        });
    },
    async latest(reviewId) {
      const result = await client.call("getReview", { reviewId });
      return result.ok ? result.value : undefined;
    },
    async latestMany(reviewIds) {
      if (reviewIds.length === 0) return [];
      const result = await client.call("getReviews", {
        reviewIds: [...reviewIds],
      });
      return result.ok ? result.value : [];
    },
    close: () => client.close(),
  };
}

/**
 * Serves a {@link MovieLookup} (usually a `MovieRepo`) as `MovieService`.
 *
 * @example
 * ```ts
 * const server = await serveMovieService(postgresMovieRepo(db), { port: 7001 });
 * ```
 */
export function serveMovieService(
  movies: MovieLookup,
  options: ServiceOptions = {},
): Promise<RpcServer> {
  return serve<MovieServiceMethods>(
    "MovieService",
    {
      getMovie: async ({ movieId }) => {
        const found = await movies.get(movieId);
        if (found === undefined)
          throw new RpcDeclaredError("MovieNotFound", { movieId });
        return found;
      },
      getMovies: ({ movieIds }) => movies.getMany(movieIds),
    },
    options,
  );
}

/**
 * A typed `MovieService` client that is a {@link MovieLookup}; `getMany` is one round trip,
 * so a batching enrichment step sends one request per batch.
 *
 * @example
 * ```ts
 * const movies = await movieServiceClient({ port: 7001, timeoutMs: 500 });
 * await movies.getMany([1, 2, 3]);
 * ```
 */
export async function movieServiceClient(
  options: ServiceClientOptions,
): Promise<MovieLookup & Closable> {
  const client = await connect<MovieServiceMethods>("MovieService", options);
  return {
    async get(movieId) {
      const result = await client.call("getMovie", { movieId });
      return result.ok ? result.value : undefined;
    },
    async getMany(movieIds) {
      if (movieIds.length === 0) return [];
      const result = await client.call("getMovies", {
        movieIds: [...new Set(movieIds)],
      });
      return result.ok ? result.value : [];
    },
    close: () => client.close(),
  };
}

/**
 * Serves a {@link UserLookup} (usually a `UserRepo`) as `UserService`.
 *
 * @example
 * ```ts
 * const server = await serveUserService(postgresUserRepo(db), { port: 7002 });
 * ```
 */
export function serveUserService(
  users: UserLookup,
  options: ServiceOptions = {},
): Promise<RpcServer> {
  return serve<UserServiceMethods>(
    "UserService",
    {
      getUser: async ({ userId }) => {
        const found = await users.get(userId);
        if (found === undefined)
          throw new RpcDeclaredError("UserNotFound", { userId });
        return found;
      },
      getUsers: ({ userIds }) => users.getMany(userIds),
    },
    options,
  );
}

/**
 * A typed `UserService` client that is a {@link UserLookup}.
 *
 * @example
 * ```ts
 * const users = await userServiceClient({ port: 7002 });
 * await users.get(42);
 * ```
 */
export async function userServiceClient(
  options: ServiceClientOptions,
): Promise<UserLookup & Closable> {
  const client = await connect<UserServiceMethods>("UserService", options);
  return {
    async get(userId) {
      const result = await client.call("getUser", { userId });
      return result.ok ? result.value : undefined;
    },
    async getMany(userIds) {
      if (userIds.length === 0) return [];
      const result = await client.call("getUsers", {
        userIds: [...new Set(userIds)],
      });
      return result.ok ? result.value : [];
    },
    close: () => client.close(),
  };
}

/** Re-exported so callers of the services need no `avro/` import. */
export type { RpcServer };
