/**
 * The generated world of the review producer: a movie catalogue, users, and the hidden
 * taste of each user that decides how they rate. Movies and users have exactly the shape of
 * the Avro `Movie` and `User` records, so they seed the movie and user services as they are.
 */
import {
  normal,
  pickOne,
  seededRandom,
  weightedPicker,
  type Random,
} from "./random.js";
import { GENRES, type Genre, type Movie, type User } from "./types.js";

/** How a user rates, beyond what the `User` record shows. */
export interface Taste {
  readonly userId: number;
  /** Genres the user rates about a star higher (also `User.favoriteGenres`). */
  readonly favorites: readonly Genre[];
  /** Genres the user rates about a star lower. */
  readonly dislikes: readonly Genre[];
  /** A harsh (< 0) or generous (> 0) rater, in stars. */
  readonly bias: number;
  /** Relative activity: how many reviews this user writes compared with others (lognormal). */
  readonly activity: number;
}

/** What a movie is like to everyone, beyond what the `Movie` record shows. */
export interface MovieTraits {
  readonly movieId: number;
  /** Mean rating of a neutral viewer, in stars. */
  readonly quality: number;
  /** 1 = the most popular movie (Zipf rank). */
  readonly popularityRank: number;
}

/** A generated catalogue: the public records and the hidden traits that drive the ratings. */
export interface Catalog {
  readonly movies: readonly Movie[];
  readonly users: readonly User[];
  readonly tastes: ReadonlyMap<number, Taste>;
  readonly traits: ReadonlyMap<number, MovieTraits>;
}

/** Options of {@link generateCatalog}. */
export interface CatalogOptions {
  /** Movies, ids 1…n. Default 500. */
  readonly movies?: number;
  /** Users, ids 1…n. Default 2000. */
  readonly users?: number;
  /** Default 1. */
  readonly seed?: number;
  /** `Movie.updatedAt` and the latest `User.createdAt`, epoch ms. Default 2024-01-01T00:00Z. */
  readonly asOfMs?: number;
}

/** Relative frequency of each genre in the catalogue (roughly MovieLens's shares). */
const GENRE_WEIGHTS: Readonly<Record<Genre, number>> = {
  Action: 10,
  Adventure: 7,
  Animation: 3,
  Children: 4,
  Comedy: 16,
  Crime: 6,
  Documentary: 4,
  Drama: 20,
  Fantasy: 4,
  "Film-Noir": 1,
  Horror: 5,
  Musical: 2,
  Mystery: 3,
  Romance: 9,
  "Sci-Fi": 5,
  Thriller: 9,
  War: 2,
  Western: 1,
};

const ADJECTIVES = [
  "Silent",
  "Last",
  "Crimson",
  "Hidden",
  "Broken",
  "Golden",
  "Distant",
  "Midnight",
  "Iron",
  "Lost",
  "Electric",
  "Frozen",
  "Wild",
  "Secret",
  "Burning",
  "Quiet",
];
const NOUNS = [
  "Harbor",
  "Empire",
  "Garden",
  "Signal",
  "Frontier",
  "Orchard",
  "Station",
  "Kingdom",
  "Voyage",
  "Circuit",
  "Lantern",
  "Canyon",
  "Witness",
  "Machine",
  "Carnival",
  "River",
];
const FIRST_NAMES = [
  "Ana",
  "Ben",
  "Chen",
  "Dewi",
  "Emil",
  "Fatima",
  "Gus",
  "Hana",
  "Ivan",
  "Jade",
  "Kofi",
  "Lena",
  "Mateo",
  "Nia",
  "Omar",
  "Priya",
  "Quinn",
  "Rosa",
  "Sven",
  "Tomo",
];
/** Countries by share of users (a streaming service's audience, roughly). */
const COUNTRIES: readonly (readonly [string, number])[] = [
  ["US", 30],
  ["IN", 10],
  ["GB", 8],
  ["DE", 7],
  ["BR", 7],
  ["FR", 6],
  ["ID", 6],
  ["JP", 5],
  ["CA", 5],
  ["ES", 4],
  ["MX", 4],
  ["AU", 3],
  ["NG", 3],
  ["KR", 2],
];

const DAY_MS = 86_400_000;

function distinctGenres(
  random: Random,
  pick: (r: Random) => number,
  n: number,
  exclude: readonly Genre[] = [],
): Genre[] {
  const out: Genre[] = [];
  while (out.length < n) {
    const g = GENRES[pick(random)]!;
    if (!out.includes(g) && !exclude.includes(g)) out.push(g);
  }
  return out;
}

/**
 * Generates movies (titles, 1–3 genres by MovieLens shares, release years skewed recent),
 * users (names, countries, 1–3 favourite genres) and their hidden tastes, all from a seed.
 *
 * @example
 * ```ts
 * const catalog = generateCatalog({ movies: 200, users: 1000, seed: 7 });
 * catalog.movies[0]; // { movieId: 1, title: "The Silent Harbor", releaseYear: 1999, genres: ["Drama"], updatedAt }
 * ```
 */
export function generateCatalog(options: CatalogOptions = {}): Catalog {
  const movieCount = options.movies ?? 500;
  const userCount = options.users ?? 2000;
  const asOf = new Date(options.asOfMs ?? Date.UTC(2024, 0, 1));
  for (const [field, n] of [
    ["movies", movieCount],
    ["users", userCount],
  ] as const)
    if (!Number.isInteger(n) || n < 1)
      throw new RangeError(
        `reviews.catalog.${field} must be a positive integer, got ${n}`,
      );
  const random = seededRandom(options.seed ?? 1);
  const pickGenre = weightedPicker(GENRES.map((g) => GENRE_WEIGHTS[g]));
  const pickCountry = weightedPicker(COUNTRIES.map(([, w]) => w));

  const movies: Movie[] = [];
  const traits = new Map<number, MovieTraits>();
  const ranks = Array.from({ length: movieCount }, (_, i) => i + 1);
  for (let i = ranks.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [ranks[i], ranks[j]] = [ranks[j]!, ranks[i]!];
  }
  const titles = new Set<string>();
  for (let movieId = 1; movieId <= movieCount; movieId++) {
    let title = `The ${pickOne(random, ADJECTIVES)} ${pickOne(random, NOUNS)}`;
    if (titles.has(title)) title = `${title} ${movieId}`;
    titles.add(title);
    const genreCount = 1 + Math.floor(random() * 3);
    movies.push({
      movieId,
      title,
      // Recent years are more common: 2024 − 74·u², u uniform.
      releaseYear: 2024 - Math.floor(74 * Math.pow(random(), 2)),
      genres: distinctGenres(random, pickGenre, genreCount),
      updatedAt: asOf,
    });
    traits.set(movieId, {
      movieId,
      quality: Math.min(4.6, Math.max(1.6, 3.3 + 0.5 * normal(random))),
      popularityRank: ranks[movieId - 1]!,
    });
  }

  const users: User[] = [];
  const tastes = new Map<number, Taste>();
  for (let userId = 1; userId <= userCount; userId++) {
    const favorites = distinctGenres(
      random,
      pickGenre,
      1 + Math.floor(random() * 3),
    );
    const dislikes = distinctGenres(
      random,
      pickGenre,
      1 + Math.floor(random() * 2),
      favorites,
    );
    const country = COUNTRIES[pickCountry(random)]![0];
    users.push({
      userId,
      displayName: `${pickOne(random, FIRST_NAMES)} ${String.fromCharCode(65 + Math.floor(random() * 26))}.`,
      country,
      favoriteGenres: favorites,
      createdAt: new Date(
        asOf.getTime() - Math.floor(random() * 3 * 365) * DAY_MS,
      ),
    });
    tastes.set(userId, {
      userId,
      favorites,
      dislikes,
      bias: 0.3 * normal(random),
      activity: Math.exp(1.2 * normal(random)),
    });
  }
  return { movies, users, tastes, traits };
}

/** Stars a user adds for a movie of a favourite genre, and takes off for a disliked one. */
export const FAVORITE_BONUS = 1.0;
/** See {@link FAVORITE_BONUS}. */
export const DISLIKE_PENALTY = 1.2;

/**
 * The mean rating a user gives a movie before noise: the movie's quality, the user's bias,
 * plus {@link FAVORITE_BONUS} if any genre is a favourite and minus {@link DISLIKE_PENALTY}
 * if any is disliked.
 *
 * @example
 * ```ts
 * expectedRating(taste, traits, movie.genres); // 4.3 for a sci-fi fan and a good sci-fi film
 * ```
 */
export function expectedRating(
  taste: Taste,
  traits: MovieTraits,
  genres: readonly string[],
): number {
  const likes = genres.some((g) =>
    (taste.favorites as readonly string[]).includes(g),
  );
  const hates = genres.some((g) =>
    (taste.dislikes as readonly string[]).includes(g),
  );
  return (
    traits.quality +
    taste.bias +
    (likes ? FAVORITE_BONUS : 0) -
    (hates ? DISLIKE_PENALTY : 0)
  );
}
