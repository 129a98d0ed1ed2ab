import { describe, expect, it } from "vitest";
import { runReviewsChain } from "./chain.js";

describe("the reviews chain on the embedded log", () => {
  it("carries every accepted review through CDC, enrichment and recommendation, dead-lettering bad input", async () => {
    const report = await runReviewsChain({
      reviews: 600,
      movies: 60,
      users: 120,
      partitions: 3,
      seed: 11,
      malformedShare: 0.02,
      corruptEvents: 2,
      cdcReplicas: 2,
    });
    expect(report.produced).toBe(600);
    expect(report.rejected).toBeGreaterThan(0); // malformed reviews refused by the review service
    expect(report.accepted + report.rejected).toBe(600);
    expect(report.cdc.duplicates).toBeGreaterThan(0); // the second replica's copies
    expect(report.enrichment.deadLetters["DECODE"]).toBe(2);
    expect(report.usersWithRecommendations).toBeGreaterThan(0);
    expect(report.allCommitted).toBe(true);
    // Every accepted write (creations and updates) reached the recommender exactly once.
    expect(report.recommendationsWritten).toBeLessThanOrEqual(report.accepted);
    expect(report.recommendationsWritten).toBeGreaterThan(
      report.accepted * 0.9,
    );
  }, 60_000);
});
