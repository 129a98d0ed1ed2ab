/**
 * A small dataset you can check by hand: three users with clear tastes, six movies, twelve
 * reviews, one later update and one malformed review. Each user rates the movies of their
 * favourite genres 4 or more and the others 2.5 or less, so a recommendation for them
 * should come from their favourite genres.
 *
 * | user       | favourites       | rated high           | rated low                    |
 * | ---------- | ---------------- | -------------------- | ---------------------------- |
 * | 1 Ana (BR) | Sci-Fi           | 1 Orbit, 2 Starship  | 3 Paris (2 → 2.5), 5 Cellar  |
 * | 2 Ben (GB) | Romance, Comedy  | 3 Paris, 4 Weddings  | 1 Orbit, 5 Cellar            |
 * | 3 Chen (ID)| Horror, Thriller | 5 Cellar, 6 Heist, 1 | 4 Weddings                   |
 */
import type { Movie, Review, User } from "./types.js";

const AS_OF = new Date("2024-01-01T00:00:00.000Z");

/** The six fixture movies, ids 1–6. */
export const FIXTURE_MOVIES: readonly Movie[] = [
  {
    movieId: 1,
    title: "Orbit of Ash",
    releaseYear: 2019,
    genres: ["Sci-Fi", "Thriller"],
    updatedAt: AS_OF,
  },
  {
    movieId: 2,
    title: "The Last Starship",
    releaseYear: 1987,
    genres: ["Sci-Fi", "Adventure"],
    updatedAt: AS_OF,
  },
  {
    movieId: 3,
    title: "Paris in the Rain",
    releaseYear: 2004,
    genres: ["Romance", "Drama"],
    updatedAt: AS_OF,
  },
  {
    movieId: 4,
    title: "Two Weddings Too Many",
    releaseYear: 2011,
    genres: ["Comedy", "Romance"],
    updatedAt: AS_OF,
  },
  {
    movieId: 5,
    title: "The Cellar",
    releaseYear: 2016,
    genres: ["Horror"],
    updatedAt: AS_OF,
  },
  {
    movieId: 6,
    title: "Night Train Heist",
    releaseYear: null,
    genres: ["Crime", "Thriller"],
    updatedAt: AS_OF,
  },
];

/** The three fixture users, ids 1–3. */
export const FIXTURE_USERS: readonly User[] = [
  {
    userId: 1,
    displayName: "Ana S.",
    country: "BR",
    favoriteGenres: ["Sci-Fi"],
    createdAt: AS_OF,
  },
  {
    userId: 2,
    displayName: "Ben K.",
    country: "GB",
    favoriteGenres: ["Romance", "Comedy"],
    createdAt: AS_OF,
  },
  {
    userId: 3,
    displayName: "Chen W.",
    country: null,
    favoriteGenres: ["Horror", "Thriller"],
    createdAt: AS_OF,
  },
];

const at = (minute: number): Date =>
  new Date(AS_OF.getTime() + 86_400_000 + minute * 60_000);

function review(
  n: number,
  userId: number,
  movieId: number,
  rating: number,
  text: string | null = null,
): Review {
  return {
    reviewId: `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`,
    movieId,
    userId,
    rating,
    text,
    createdAt: at(n),
    updatedAt: at(n),
    version: 1,
  };
}

/** Twelve valid first versions, in arrival order (review ids …0001 to …0012). */
export const FIXTURE_REVIEWS: readonly Review[] = [
  review(1, 1, 1, 5, "Orbit of Ash: an instant favourite."),
  review(2, 1, 2, 4.5),
  review(3, 1, 3, 2, "Paris in the Rain: not for me."),
  review(4, 1, 5, 1.5),
  review(5, 2, 3, 5, "Paris in the Rain: loved every minute."),
  review(6, 2, 4, 4.5),
  review(7, 2, 1, 2.5),
  review(8, 2, 5, 1),
  review(9, 3, 5, 5, "The Cellar: will watch it again."),
  review(10, 3, 6, 4.5),
  review(11, 3, 1, 4),
  review(12, 3, 4, 2),
];

/** Ana's second thoughts on Paris in the Rain: version 2 of review …0003, rating 2.5. */
export const FIXTURE_UPDATE: Review = {
  ...FIXTURE_REVIEWS[2]!,
  rating: 2.5,
  text: "Paris in the Rain: better the second time.",
  updatedAt: at(30),
  version: 2,
};

/** A review the service must reject: rating 6 (field `rating`). */
export const FIXTURE_MALFORMED: Review = {
  ...review(13, 2, 2, 4),
  rating: 6,
};
