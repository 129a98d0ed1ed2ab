/**
 * The records of the reviews system as TypeScript sees them after Avro decoding
 * (`avro/schemas/Review.avsc`, `Movie.avsc`, `User.avsc`): `timestamp-millis` is a `Date`,
 * `uuid` a string, `long` a number.
 */

/** A movie review (`dev.sluice.reviews.Review`). */
export interface Review {
  readonly reviewId: string;
  readonly movieId: number;
  readonly userId: number;
  /** 0.5 … 5.0 in half steps. */
  readonly rating: number;
  readonly text: string | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  /** Incremented on every change; the latest wins. */
  readonly version: number;
}

/** A movie (`dev.sluice.reviews.Movie`). */
export interface Movie {
  readonly movieId: number;
  readonly title: string;
  readonly releaseYear: number | null;
  readonly genres: readonly string[];
  readonly updatedAt: Date;
}

/** A user (`dev.sluice.reviews.User`). */
export interface User {
  readonly userId: number;
  readonly displayName: string;
  /** ISO 3166-1 alpha-2. */
  readonly country: string | null;
  readonly favoriteGenres: readonly string[];
  readonly createdAt: Date;
}

/** The genres of the catalogue (MovieLens's genre list). */
export const GENRES = [
  "Action",
  "Adventure",
  "Animation",
  "Children",
  "Comedy",
  "Crime",
  "Documentary",
  "Drama",
  "Fantasy",
  "Film-Noir",
  "Horror",
  "Musical",
  "Mystery",
  "Romance",
  "Sci-Fi",
  "Thriller",
  "War",
  "Western",
] as const;

/** One of {@link GENRES}. */
export type Genre = (typeof GENRES)[number];
