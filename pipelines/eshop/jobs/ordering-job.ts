// `sluice run eshop-ordering`: the Ordering state machine of seeds/003.
import { z } from "zod";
import { defineJob } from "../../../runtime/job.js";
import { startOrdering } from "../ordering.js";
import { busFor, shared, storesFor } from "./connections.js";

/**
 * Relays order-checkouts, grace-period-confirmed, order-stock-statuses, payment-status and
 * order-commands into `ordering-inbox` by order id and runs the per-order state machine on
 * it; state and grace-period timers are checkpointed with the inbox offsets
 * (`checkpoint.store: postgres` to survive a crash). Order views go to PostgreSQL.
 *
 * @example
 * ```sh
 * KAFKA_BROKERS=127.0.0.1:9092 DATABASE_URL=postgres://sluice:sluice@127.0.0.1:5432/sluice \
 *   SLUICE_CHECKPOINT__STORE=postgres sluice run eshop-ordering --port 9481
 * ```
 */
export default defineJob({
  name: "eshop-ordering",
  description:
    "Ordering: the per-order state machine with its grace-period timer.",
  config: z
    .object({
      ...shared,
      graceMode: z.enum(["timer", "task"]).default("timer"),
      graceMs: z.number().int().positive().default(60_000),
      priorityGraceMs: z.number().int().positive().default(5_000),
      graceRetryMs: z.number().int().positive().default(30_000),
    })
    .strict(),
  async run(ctx) {
    const c = ctx.config;
    const bus = await busFor(ctx.runtime, c);
    const { stores } = await storesFor(ctx, ctx.runtime, c.schema);
    const service = startOrdering(ctx, {
      bus,
      views: stores.views,
      groupPrefix: c.groupPrefix,
      grace: {
        mode: c.graceMode,
        graceMs: c.graceMs,
        priorityGraceMs: c.priorityGraceMs,
        retryMs: c.graceRetryMs,
      },
    });
    // Dead letters on /metrics and in sluice.job_stats (the Pipelines dashboard).
    ctx.trackCounters({
      deadLetters: [{ name: "eshop-ordering", counters: service.badRecords }],
    });
    ctx.ready();
    await service.done;
  },
});
