// Public exports of the reviews pipeline's service side, listed one by one (STYLE.md habit 8).
export { GENRES } from "./types.js";
export type { Genre, Movie, Review, User } from "./types.js";
export {
  exponential,
  normal,
  pickOne,
  seededRandom,
  seededUuid,
  weightedPicker,
  zipfWeights,
} from "./random.js";
export type { Random, WeightedPicker } from "./random.js";
export {
  DISLIKE_PENALTY,
  expectedRating,
  FAVORITE_BONUS,
  generateCatalog,
} from "./catalog.js";
export type { Catalog, CatalogOptions, MovieTraits, Taste } from "./catalog.js";
export {
  arrivalRate,
  generateReviews,
  reviewArrivals,
  take,
} from "./producer.js";
export type {
  ArrivalOptions,
  Defect,
  ProducedReview,
  ProducerOptions,
} from "./producer.js";
export {
  FIXTURE_MALFORMED,
  FIXTURE_MOVIES,
  FIXTURE_REVIEWS,
  FIXTURE_UPDATE,
  FIXTURE_USERS,
} from "./fixtures.js";
export { checkReview, reviewSchema, validateReview } from "./validate.js";
export type { ReviewCheck } from "./validate.js";
export { memoryReviewStore } from "./review-store.js";
export type { MemoryReviewStoreOptions, ReviewStore } from "./review-store.js";
export {
  applyReviewsSchema,
  cassandraReviewStore,
  REVIEWS_CQL_SCHEMA,
} from "./cassandra-review-store.js";
export type { ReviewsSchemaOptions } from "./cassandra-review-store.js";
export { reviewsCql } from "./cql.js";
export { inOrder, memoryMovieRepo, memoryUserRepo } from "./catalog-repo.js";
export type {
  MovieLookup,
  MovieRepo,
  UserLookup,
  UserRepo,
} from "./catalog-repo.js";
export {
  allMovies,
  CATALOG_SCHEMA,
  countMovies,
  migrateCatalog,
  postgresMovieRepo,
  postgresUserRepo,
} from "./postgres-catalog.js";
export {
  movieServiceClient,
  reviewServiceClient,
  serveMovieService,
  serveReviewService,
  serveUserService,
  userServiceClient,
} from "./services.js";
export type {
  Closable,
  MovieServiceMethods,
  ReviewServiceMethods,
  RpcServer,
  ServiceClientOptions,
  ServiceOptions,
  UserServiceMethods,
} from "./services.js";
export {
  TasteModel,
  genreAffinity,
  isNewer,
  recommendFor,
} from "./recommend.js";
export type {
  CatalogMovie,
  RatedMovie,
  RatingEvent,
  Recommended,
} from "./recommend.js";
