import type { PipelineEntry } from "../../runtime/pipelines.js";

/** The reviews system's jobs, each a separate workload (`sluice run reviews-enrichment`). */
export const entry: PipelineEntry = {
  jobs: {
    "reviews-service": () => import("./jobs/review-service-job.js"),
    "reviews-catalog": () => import("./jobs/catalog-job.js"),
    "reviews-cdc": () => import("./jobs/cdc-job.js"),
    "reviews-enrichment": () => import("./jobs/enrichment-job.js"),
    "reviews-recommendation": () => import("./jobs/recommendation-job.js"),
    "reviews-producer": () => import("./jobs/producer-job.js"),
  },
};
