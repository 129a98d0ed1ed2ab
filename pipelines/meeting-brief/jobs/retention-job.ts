// `sluice run meeting-brief-retention`: the daily clean-up (seed 001 step 6).
import { createPostgresPool } from "../../../connectors/postgres/index.js";
import { scheduleSource } from "../../../connectors/schedule/index.js";
import { ConfigError } from "../../../runtime/config.js";
import { defineJob } from "../../../runtime/job.js";
import { SluiceError } from "../../../operators/sluice-error.js";
import { retentionJobConfig } from "../config.js";
import { runRetention } from "../retention.js";
import { eachFiring, postgresStores, withAsyncAssignments } from "../wiring.js";

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
    if (ctx.runtime.postgres === undefined)
      throw new ConfigError(["postgres.url must be set (or set DATABASE_URL)"]);
    const db = createPostgresPool({
      connectionString: ctx.runtime.postgres.url.reveal(),
    });
    ctx.onShutdown(() => db.end());
    const stores = await postgresStores(db, c.schema, c.queue);
    const source = scheduleSource({
      job: ctx.name,
      cron: c.cron,
      timeZone: c.timeZone,
      store: stores.firings,
      mode: c.mode,
    });
    ctx.addSource(withAsyncAssignments(source));
    ctx.ready();
    const failed = await eachFiring(source, ctx.logger, async (firing) => {
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
    if (failed > 0 && c.mode === "run-once")
      throw new SluiceError(
        "PROCESS",
        `${ctx.name}: ${failed} firing(s) failed (see the log); they run again on the next start`,
      );
  },
});
