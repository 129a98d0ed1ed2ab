import { defaultChainOptions } from "../pipelines/reviews/chain.js";
import { runReviewsChainOnStack } from "../pipelines/reviews/stack-chain.js";
import type { Endpoints } from "../stack/index.js";
import { eshopSuite } from "./eshop.js";
import { outreachSuite } from "./outreach.js";
import type { Suite, Workload } from "./harness.js";
import { reviewsSuite } from "./reviews.js";

/**
 * `pipelines-reviews`: the reviews chain of `sluice bench reviews` (embedded default, beside
 * one job hop on the in-memory log as the baseline) and the same chain on the real stack
 * (Cassandra review store and its CDC log, Kafka between the jobs, PostgreSQL catalogue and
 * analytics, memcached dedupe), `runReviewsChainOnStack` with a fresh run id (its own topics,
 * keyspace and schemas, dropped at the end). Reviews/s, write→recommendation latency in the
 * notes; a run fails unless every offset was committed.
 */
export function reviewsPipelineSuite(
  reviews: number,
  stackReviews: number,
  env: Endpoints,
): Suite {
  const embedded = reviewsSuite(reviews);
  let latency = "";
  const stack: Workload = {
    name: "reviews chain (stack)",
    records: stackReviews,
    get note() {
      return `the same chain on Cassandra + CDC, Kafka, PostgreSQL, memcached; write→update latency ${latency}`;
    },
    run: async () => {
      const report = await runReviewsChainOnStack(
        { ...defaultChainOptions, reviews: stackReviews },
        env,
      );
      latency = `p50 ${report.latencyMs.p50} ms, p99 ${report.latencyMs.p99} ms`;
      if (!report.allCommitted)
        throw new Error(
          "the reviews chain on the stack did not commit every offset",
        );
      return { seconds: report.seconds };
    },
  };
  return {
    ...embedded,
    name: "pipelines-reviews",
    workloads: [...embedded.workloads, stack],
  };
}

/**
 * Every pipeline suite of `sluice bench pipelines`, one after the other: the reviews chain
 * (above), the outreach fan-out (`sluice bench outreach`: 1 M job ids × scale through Kafka to
 * the simulators) and the e-shop saga (`sluice bench eshop`, embedded and on Kafka +
 * PostgreSQL, with the sizes its own entry uses).
 */
export function pipelineSuites(
  scale: number,
  env: Endpoints,
  out?: string,
): Suite[] {
  return [
    reviewsPipelineSuite(
      Math.max(200, Math.round(5_000 * scale)),
      Math.max(200, Math.round(2_000 * scale)),
      env,
    ),
    {
      ...outreachSuite(
        Math.max(1_000, Math.round(1_000_000 * scale)),
        env,
        out,
      ),
      name: "pipelines-outreach",
    },
    {
      // its own results files, so `sluice bench eshop`'s stay as that suite measured them
      ...eshopSuite(
        env,
        Math.max(50, Math.round(1_000 * scale)),
        Math.max(2_000, Math.round(20_000 * scale)),
      ),
      name: "pipelines-eshop",
    },
  ];
}
