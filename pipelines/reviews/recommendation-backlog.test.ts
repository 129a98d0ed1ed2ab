import { lastValueFrom, map, reduce, timer } from "rxjs";
import { describe, expect, it } from "vitest";
import { MemoryLog } from "../../connectors/memory/log.js";
import { memorySource } from "../../connectors/memory/source.js";
import { dedupe, type DedupeStore } from "../../operators/dedupe.js";
import { loadConfig } from "../../runtime/config.js";
import { generateCatalog } from "./catalog.js";
import type { EnrichedReview } from "./enrichment.js";
import recommendationJob from "./jobs/recommendation-job.js";
import { generateReviews } from "./producer.js";
import { recommend } from "./recommendation.js";
import { recommendationCaps } from "./stack-wiring.js";

// Issue 16: with its default config (2 000 records in flight, a dedupe buffer of 1 000) the
// recommendation job died 1.5 s after start on any backlog (`BACKPRESSURE dedupe holds 1000
// waiting records`) and crash-looped. The job's pipeline shape (source → dedupe → recommend)
// is run here on the memory log with the caps its default config gives, against a far
// store that answers each claim asynchronously (as memcached does, behind the source).

const BACKLOG = 10_000;

/** A far dedupe store that never has seen an id, answering asynchronously. */
const slowFar: DedupeStore = {
  claim: () => timer(0).pipe(map(() => "claimed" as const)),
  confirm: () => timer(0).pipe(map(() => undefined)),
  release: () => timer(0).pipe(map(() => undefined)),
};

/** `count` enriched reviews on a 4-partition topic (keyed by user), and how many are distinct versions. */
function backlog(count: number): { log: MemoryLog; distinct: number } {
  const catalog = generateCatalog({ movies: 40, users: 1_000, seed: 7 });
  const movies = new Map(catalog.movies.map((m) => [m.movieId, m]));
  const users = new Map(catalog.users.map((u) => [u.userId, u]));
  const log = new MemoryLog();
  log.createTopic("reviews-enriched", { partitions: 4 });
  const versions = new Set<string>();
  let n = 0;
  for (const p of generateReviews({ catalog, seed: 7 })) {
    if (n >= count) break;
    if (p.kind === "malformed") continue;
    const e: EnrichedReview = {
      metadata: {
        eventId: `e${n}`,
        occurredAt: p.review.updatedAt,
        producer: "backlog-test",
        correlationId: null,
      },
      review: p.review,
      movie: movies.get(p.review.movieId)!,
      user: users.get(p.review.userId)!,
      enrichedAt: p.review.updatedAt,
    };
    versions.add(`${p.review.reviewId}@${p.review.version}`);
    log.append("reviews-enriched", {
      key: String(e.user.userId),
      value: e,
      timestamp: p.review.updatedAt.getTime(),
    });
    n += 1;
  }
  return { log, distinct: versions.size };
}

/** Runs source → dedupe → recommend over the backlog; resolves with the records settled. */
function run(
  log: MemoryLog,
  caps: { readonly maxInFlight: number; readonly dedupeMaxBuffered: number },
): Promise<number> {
  const source = memorySource<EnrichedReview>(log, {
    group: "recommend",
    topics: ["reviews-enriched"],
    maxInFlight: caps.maxInFlight,
    stopAtEnd: true,
  });
  return lastValueFrom(
    source.records().pipe(
      dedupe<EnrichedReview>({
        idOf: (r) => r.value.metadata.eventId,
        store: slowFar,
        ttlMs: 86_400_000,
        nearCacheSize: 0,
        maxBuffered: caps.dedupeMaxBuffered,
      }),
      recommend({ topK: 5 }),
      reduce((n, r) => (r.ack.ack(), n + 1), 0),
    ),
  ).finally(() => source.close());
}

/** The job's config as `sluice run` resolves it from these variables (none: the defaults). */
function defaults(env: Readonly<Record<string, string>> = {}) {
  return loadConfig({ env, jobSchema: recommendationJob.config });
}

describe("the recommendation job's buffer sizes", () => {
  it("derives the dedupe buffer from maxInFlight: its default config runs a backlog of many times its caps to the end", async () => {
    const caps = recommendationCaps(defaults().job);
    expect(caps).toEqual({ maxInFlight: 2_000, dedupeMaxBuffered: 2_000 });
    // 100 000 passes too (about a minute on a loaded 2-core machine); CI runs ten times less.
    const { log, distinct } = backlog(BACKLOG);
    const outputs = await run(log, caps);
    // Each distinct review version gives a user row and a stats row; a repeat gives none.
    expect(outputs).toBe(2 * distinct);
  }, 120_000);

  it("the previous defaults (2 000 in flight, buffer 1 000) die of BACKPRESSURE on a backlog", async () => {
    const { log } = backlog(5_000);
    await expect(
      run(log, { maxInFlight: 2_000, dedupeMaxBuffered: 1_000 }),
    ).rejects.toThrow(/dedupe holds 1000 waiting records/);
  });

  it("refuses at start a dedupe buffer below maxInFlight, naming both fields", () => {
    expect(() =>
      defaults({
        SLUICE_JOB__MAX_IN_FLIGHT: "3000",
        SLUICE_JOB__DEDUPE_MAX_BUFFERED: "1000",
      }),
    ).toThrow(
      /job\.dedupeMaxBuffered must be at least maxInFlight \(dedupeMaxBuffered 1000 < maxInFlight 3000\)/,
    );
    expect(() =>
      recommendationCaps({ maxInFlight: 3_000, dedupeMaxBuffered: 1_000 }),
    ).toThrow(/dedupeMaxBuffered must be at least maxInFlight/);
    expect(recommendationCaps({ maxInFlight: 500 })).toEqual({
      maxInFlight: 500,
      dedupeMaxBuffered: 500,
    });
  });
});
