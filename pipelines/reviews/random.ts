/**
 * Seeded random draws for the review producer: every distribution here takes its uniform
 * numbers from one mulberry32 stream, so a seed repeats a run exactly.
 */

/** A source of uniform numbers in [0, 1). */
export type Random = () => number;

/**
 * A small seeded PRNG (mulberry32).
 *
 * @example
 * ```ts
 * const random = seededRandom(42);
 * random(); // the same number on every run
 * ```
 */
export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A standard normal draw (Box–Muller).
 *
 * @example
 * ```ts
 * const noise = 0.6 * normal(random);
 * ```
 */
export function normal(random: Random): number {
  const u = 1 - random();
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/**
 * An exponential draw with the given rate (mean `1 / rate`).
 *
 * @example
 * ```ts
 * const gapSeconds = exponential(random, 2); // mean 0.5 s
 * ```
 */
export function exponential(random: Random, rate: number): number {
  return -Math.log(1 - random()) / rate;
}

/** Picks an index with probability proportional to its weight. */
export interface WeightedPicker {
  (random: Random): number;
  /** Probability of each index. */
  readonly probabilities: readonly number[];
}

/**
 * Builds an inverse-CDF picker over fixed weights (binary search, O(log n) per draw).
 *
 * @example
 * ```ts
 * const pick = weightedPicker([3, 1]); // index 0 three times as often as index 1
 * pick(random);
 * ```
 */
export function weightedPicker(weights: readonly number[]): WeightedPicker {
  if (weights.length === 0) throw new Error("weightedPicker needs weights");
  const total = weights.reduce((a, b) => a + b, 0);
  const cdf: number[] = [];
  let acc = 0;
  for (const w of weights) cdf.push((acc += w / total));
  const pick = (random: Random): number => {
    const u = random();
    let lo = 0;
    let hi = cdf.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid]! <= u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  return Object.assign(pick, {
    probabilities: weights.map((w) => w / total),
  });
}

/**
 * Zipf weights `1 / rank^s` for ranks 1…n.
 *
 * @example
 * ```ts
 * const pick = weightedPicker(zipfWeights(1000, 1.0)); // rank 1 ≈ 13 % of draws
 * ```
 */
export function zipfWeights(n: number, s: number): number[] {
  return Array.from({ length: n }, (_, i) => 1 / Math.pow(i + 1, s));
}

/**
 * A random element of a non-empty list.
 *
 * @example
 * ```ts
 * const genre = pickOne(random, GENRES);
 * ```
 */
export function pickOne<T>(random: Random, items: readonly T[]): T {
  const item = items[Math.floor(random() * items.length)];
  if (item === undefined) throw new Error("pickOne needs a non-empty list");
  return item;
}

/**
 * A seeded RFC 4122 version-4 UUID.
 *
 * @example
 * ```ts
 * seededUuid(random); // "3f2a…-4…-8…"
 * ```
 */
export function seededUuid(random: Random): string {
  const bytes = Array.from({ length: 16 }, () => Math.floor(random() * 256));
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
