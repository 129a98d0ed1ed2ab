// `sluice run eshop-grace-period-task`: the seed's GracePeriodManagerTask (run once, exit).
import { z } from "zod";
import { defineJob } from "../../../runtime/job.js";
import { runGracePeriodTask } from "../grace-period-task.js";
import { busFor, shared, storesFor } from "./connections.js";

/**
 * Starts, publishes GracePeriodConfirmed for every Submitted order older than `graceMs`,
 * records the run in `<schema>.grace_period_task_runs` and exits 0 (a CronJob; run
 * eshop-ordering with `graceMode: task`).
 *
 * @example
 * ```sh
 * KAFKA_BROKERS=127.0.0.1:9092 DATABASE_URL=postgres://sluice:sluice@127.0.0.1:5432/sluice sluice run eshop-grace-period-task
 * ```
 */
export default defineJob({
  name: "eshop-grace-period-task",
  description:
    "Grace-period task: confirms due orders once, records the run, exits.",
  config: z
    .object({ ...shared, graceMs: z.number().int().positive().default(60_000) })
    .strict(),
  async run(ctx) {
    const c = ctx.config;
    const bus = await busFor(ctx.runtime, c);
    const { stores } = await storesFor(ctx, ctx.runtime, c.schema);
    const result = await runGracePeriodTask({
      bus,
      views: stores.views,
      runs: stores.taskRuns,
      graceMs: c.graceMs,
    });
    ctx.logger.info("grace-period task done", { ...result });
  },
});
