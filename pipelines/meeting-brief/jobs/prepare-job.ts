// `sluice run meeting-brief`: the 05:00 run (seed 001 steps 1-4).
import { defineJob } from "../../../runtime/job.js";
import { prepareJobConfig } from "../config.js";
import { prepareBriefs } from "../prepare.js";
import {
  calendarClient,
  enrichmentClient,
  jobStores,
  runFirings,
} from "../wiring.js";

/**
 * At 05:00 in the team's zone (cron and zone from config): syncs each sales person's calendar
 * incrementally, enriches the participants, renders the briefs and queues them for 07:50.
 * `mode: run-once` runs the current firing and exits (a K3s CronJob); `continuous` waits for
 * each firing (a Deployment) and catches up the latest missed one after downtime.
 *
 * @example
 * ```sh
 * DATABASE_URL=postgres://sluice:sluice@127.0.0.1:5432/sluice sluice run meeting-brief --config meeting-brief.yaml
 * ```
 */
export default defineJob({
  name: "meeting-brief",
  description:
    "05:00 calendar sync, participant enrichment and brief rendering, queued for 07:50.",
  config: prepareJobConfig,
  async run(ctx) {
    const c = ctx.config;
    const stores = await jobStores(ctx, c);
    const deps = {
      job: ctx.name,
      repo: stores.repo,
      calendar: calendarClient(c.calendar),
      enrichment: enrichmentClient(c.enrichment),
      deadLetters: stores.deadLetters,
      queue: stores.queue,
      now: Date.now,
      timeZone: c.timeZone,
      sendAt: c.sendAt,
      windowMs: c.windowHours * 3_600_000,
      sendEmpty: c.sendEmpty,
      enrichConcurrency: c.enrichment.concurrency,
    };
    await runFirings(ctx, c, stores.firings, async (firing) => {
      const summary = await prepareBriefs(
        { id: firing.id, scheduledMs: firing.scheduledAt },
        deps,
      );
      ctx.logger.info("briefs prepared", { firing: firing.id, ...summary });
    });
  },
});
