import type { PipelineEntry } from "../../runtime/pipelines.js";

/** `sluice run demo-count`; the keyed-count demo has its own options in the CLI. */
export const entry: PipelineEntry = {
  jobs: { "demo-count": () => import("./count-job.js") },
};
