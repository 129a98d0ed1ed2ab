import type { PipelineEntry } from "../../runtime/pipelines.js";

/** The meeting-brief system (seeds/001): three scheduled jobs and a demo. */
export const entry: PipelineEntry = {
  jobs: {
    "meeting-brief": () => import("./jobs/prepare-job.js"),
    "meeting-brief-sender": () => import("./jobs/sender-job.js"),
    "meeting-brief-retention": () => import("./jobs/retention-job.js"),
  },
  demos: {
    "meeting-brief": {
      description:
        "One morning of sales meeting briefs: calendar sync, enrichment, rendering, 07:50 SMTP delivery (simulated APIs, accelerated time).",
      sizeUnit: "sales people",
      run: async (args) =>
        (await import("./demo.js")).runMeetingBriefDemo(args),
    },
  },
};
