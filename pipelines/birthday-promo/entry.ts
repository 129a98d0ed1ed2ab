import type { PipelineEntry } from "../../runtime/pipelines.js";

/** The birthday promo (seeds/004): one scheduled job and its demo. */
export const entry: PipelineEntry = {
  jobs: {
    "birthday-promo": () => import("./jobs/birthday-promo-job.js"),
  },
  demos: {
    "birthday-promo": {
      description:
        "00:01 Asia/Jakarta birthday promo: one transaction, email + WhatsApp once each, rerun-safe",
      sizeUnit: "users",
      run: async (args) => (await import("./demo.js")).runBirthdayDemo(args),
    },
  },
};
