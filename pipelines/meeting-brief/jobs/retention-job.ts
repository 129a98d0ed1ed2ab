// `sluice run meeting-brief-retention`: the daily clean-up (seed 001 step 6).
import { defineJob } from "../../../runtime/job.js";
import { retentionJobConfig } from "../config.js";
import { runRetention } from "../retention.js";
import { jobStores, runFirings } from "../wiring.js";

/**
 * Once a day (03:30 local by default) deletes participant data enriched 30 days ago or
 * earlier, and companies left without participants.
 *
 * @example
 * ```sh
 * DATABASE_URL=… SLUICE_JOB__MODE=run-once sluice run meeting-brief-retention
 * ```
 */
export default defineJob({
  name: "meeting-brief-retention",
  description: "Daily deletion of participant data 30 days old or older.",
  config: retentionJobConfig,
  async run(ctx) {
    const c = ctx.config;
    const stores = await jobStores(ctx, c);
    await runFirings(ctx, c, stores.firings, async (firing) => {
      const deleted = await runRetention(
        stores.repo,
        Date.now(),
        c.maxAgeDays * 24 * 3_600_000,
      );
      ctx.logger.info("old participant data deleted", {
        firing: firing.id,
        ...deleted,
      });
    });
  },
});
