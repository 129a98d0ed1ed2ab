import { progress } from "../../runtime/progress.js";
import {
  runReviewsChain,
  defaultChainOptions,
  type ReviewsChainOptions,
  type ReviewsChainReport,
} from "./chain.js";
import { runReviewsChainOnStack, type StackEndpoints } from "./stack-chain.js";

/** Options `sluice demo reviews` takes. */
export type ReviewsDemoOptions = Pick<
  ReviewsChainOptions,
  "reviews" | "movies" | "users" | "partitions" | "seed"
>;

const fmt = (n: number): string => n.toLocaleString("en");

/** Renders the summary a person reads after the demo. */
export function summary(r: ReviewsChainReport): string {
  const lines: string[] = [];
  const movieById = new Map(r.catalog.movies.map((m) => [m.movieId, m]));
  lines.push(
    `reviews produced: ${fmt(r.produced)}  accepted by the review service: ${fmt(r.accepted)}  rejected as malformed: ${fmt(r.rejected)}`,
  );
  lines.push(
    `CDC relay: ${fmt(r.cdc.published)} review events published, ${fmt(r.cdc.duplicates)} replica duplicates dropped`,
  );
  const dl = Object.entries(r.enrichment.deadLetters).map(
    ([code, n]) => `${n} ${code}`,
  );
  lines.push(
    `enrichment: ${fmt(r.enrichment.dedupeHits)} duplicate events skipped; dead letters: ${dl.length > 0 ? dl.join(", ") : "none"}`,
  );
  lines.push(
    `recommendation updates: ${fmt(r.recommendationsWritten)} for ${fmt(r.usersWithRecommendations)} users; ${fmt(r.statsWindows)} per-movie stats windows`,
  );
  lines.push(
    `throughput: ${fmt(Math.round(r.accepted / r.seconds))} reviews/s end to end; latency from review write to recommendation update p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms`,
  );

  const lastStart = Math.max(...r.movieStats.map((s) => s.windowStart));
  const last = r.movieStats
    .filter((s) => s.windowStart === lastStart && s.reviews >= 2)
    .sort((a, b) => b.meanRating - a.meanRating || b.reviews - a.reviews);
  if (last.length > 0) {
    const when = new Date(lastStart)
      .toISOString()
      .slice(0, 16)
      .replace("T", " ");
    lines.push(
      "",
      `top-rated movies of the last window (${when} UTC, at least 2 reviews):`,
    );
    for (const s of last.slice(0, 5))
      lines.push(
        `  ${s.meanRating.toFixed(2)}  ${s.title.padEnd(34)} ${String(s.reviews).padStart(3)} reviews  ${(movieById.get(s.movieId)?.genres ?? []).join(", ")}`,
      );
  }

  // The three most active reviewers: the more a user rated, the more their profile says.
  const active = [...r.recommendations.values()]
    .sort(
      (a, b) =>
        (r.updatesPerUser.get(b.userId) ?? 0) -
          (r.updatesPerUser.get(a.userId) ?? 0) || a.userId - b.userId,
    )
    .slice(0, 3);
  if (active.length > 0) {
    lines.push(
      "",
      "recommendations for the three most active reviewers (their favourite genres in brackets):",
    );
    for (const u of active) {
      const user = r.catalog.users.find((x) => x.userId === u.userId);
      const learned = [...r.model.genreAffinity(u.userId)]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 3)
        .map(([g, a]) => `${g} ${a >= 0 ? "+" : ""}${a.toFixed(1)}`);
      lines.push(
        `  ${u.displayName} [${(user?.favoriteGenres ?? []).join(", ")}], ${r.updatesPerUser.get(u.userId) ?? 0} reviews; learned taste: ${learned.join(", ")}`,
      );
      for (const rec of u.recommendations.slice(0, 3))
        lines.push(
          `    ${rec.title.padEnd(34)} ${(movieById.get(rec.movieId)?.genres ?? []).join(", ").padEnd(28)} ${rec.reason}`,
        );
    }
  }
  lines.push(
    "",
    `every offset committed on both jobs: ${r.allCommitted ? "yes" : "NO"}`,
  );
  return lines.join("\n");
}

/** `sluice demo` (reviews): runs the whole chain in one process with a progress bar, then prints the summary. */
export async function runReviewsDemo(
  options: ReviewsDemoOptions,
): Promise<void> {
  console.log(
    `Sluice demo: the movie-review system in one process, on the embedded log and stores\n` +
      `  producer → review service (Avro RPC) → CDC relay → reviews → enrichment (dedupe, latest review, movie and user over Avro RPC)\n` +
      `  → reviews-enriched → recommendations (taste profiles) and per-movie rating stats (1 h event-time windows)\n` +
      `  ${fmt(options.reviews)} reviews, ${fmt(options.movies)} movies, ${fmt(options.users)} users, ${options.partitions} partitions per topic, seed ${options.seed}\n`,
  );
  const bar = progress("reviews", options.reviews * 2);
  let produced = 0;
  const report = await runReviewsChain(
    { ...defaultChainOptions, ...options },
    (stage, n) => {
      if (stage === "produced") produced = n;
      bar.update(
        stage === "produced" ? n : produced + Math.min(n, options.reviews),
        stage,
      );
    },
  );
  bar.update(options.reviews * 2, "done");
  bar.stop();
  console.log("\n" + summary(report));
  if (!report.allCommitted) process.exitCode = 1;
}

/** Options of `sluice demo reviews --stack local`. */
export interface ReviewsStackDemoOptions extends ReviewsDemoOptions {
  /** Reuse the topics, keyspace and schemas of this run id (and keep them). */
  readonly keep?: string;
}

/**
 * `sluice demo --stack local` (reviews): the same chain against the real Kafka, Cassandra,
 * PostgreSQL and memcached, with names unique to the run (or `--keep <id>` to reuse them),
 * then the same summary and where the results are.
 */
export async function runReviewsDemoOnStack(
  options: ReviewsStackDemoOptions,
  endpoints: StackEndpoints,
): Promise<void> {
  console.log(
    `Sluice demo: the movie-review system in one process, on the local stack\n` +
      `  producer → review service (Avro RPC, Cassandra) → Cassandra CDC relay → Kafka reviews → enrichment (memcached dedupe, review, movie and user over Avro RPC; catalogue in PostgreSQL)\n` +
      `  → Kafka reviews-enriched → recommendations (Cassandra and PostgreSQL) and per-movie rating stats (PostgreSQL, 1 h event-time windows)\n` +
      `  ${fmt(options.reviews)} reviews, ${fmt(options.movies)} movies, ${fmt(options.users)} users, ${options.partitions} partitions per topic, seed ${options.seed}\n`,
  );
  const bar = progress("reviews", options.reviews * 2);
  let produced = 0;
  const { keep, ...chain } = options;
  const report = await runReviewsChainOnStack(
    {
      ...defaultChainOptions,
      ...chain,
      ...(keep !== undefined ? { runId: keep } : {}),
    },
    endpoints,
    (stage, n) => {
      if (stage === "produced") produced = n;
      bar.update(
        stage === "produced" ? n : produced + Math.min(n, options.reviews),
        stage,
      );
    },
  );
  bar.update(options.reviews * 2, "done");
  bar.stop();
  const n = report.names;
  console.log(
    "\n" +
      summary(report) +
      `\n\nrun ${n.runId}: topics ${Object.values(n.topics).join(", ")}; Cassandra keyspace ${n.keyspace}; PostgreSQL schemas ${n.catalogSchema}, ${n.analyticsSchema}` +
      (keep !== undefined
        ? " (kept; run again with the same --keep to reuse them)"
        : " (dropped; pass --keep <id> to keep them)"),
  );
  if (!report.allCommitted) process.exitCode = 1;
}
