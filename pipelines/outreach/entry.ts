import type { PipelineEntry } from "../../runtime/pipelines.js";

/**
 * The outreach system (seeds/000): the hourly planner (a CronJob with `runOnce`), the sender
 * and the results job (Deployments), and the simulators of the outside services.
 */
export const entry: PipelineEntry = {
  jobs: {
    "outreach-planner": () => import("./jobs/planner-job.js"),
    "outreach-sender": () => import("./jobs/sender-job.js"),
    "outreach-results": () => import("./jobs/results-job.js"),
    "outreach-simulators": () => import("./jobs/simulators-job.js"),
  },
  demos: {
    outreach: {
      description:
        "hourly email outreach: segments → job ids through the log → action log → evaluation → outreach service → results",
      sizeUnit: "job ids",
      run: async (args) => (await import("./demo.js")).runOutreachDemo(args),
    },
  },
};
