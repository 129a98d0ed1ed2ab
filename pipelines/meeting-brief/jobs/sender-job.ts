// `sluice run meeting-brief-sender`: the 07:50 delivery (seed 001 step 5).
import { createPostgresPool } from "../../../connectors/postgres/index.js";
import { ConfigError } from "../../../runtime/config.js";
import { defineJob } from "../../../runtime/job.js";
import { senderJobConfig } from "../config.js";
import { deliverBriefs } from "../deliver.js";
import { briefSmtpSender, postgresStores } from "../wiring.js";

/**
 * Sends the queued briefs when they fall due (07:50 local), over SMTP, at most once per
 * (firing, sales person) through the action log, with retries and dead letters.
 * `continuous` polls the send-at queue (a Deployment); `run-once` sends what is due and exits
 * once the queue is empty (a CronJob at 07:50).
 *
 * @example
 * ```sh
 * DATABASE_URL=… SLUICE_JOB__SMTP__HOST=smtp.example.com sluice run meeting-brief-sender --config meeting-brief.yaml
 * ```
 */
export default defineJob({
  name: "meeting-brief-sender",
  description:
    "07:50 delivery of the queued briefs over SMTP, once per sales person.",
  config: senderJobConfig,
  async run(ctx) {
    const c = ctx.config;
    if (ctx.runtime.postgres === undefined)
      throw new ConfigError(["postgres.url must be set (or set DATABASE_URL)"]);
    const db = createPostgresPool({
      connectionString: ctx.runtime.postgres.url.reveal(),
    });
    ctx.onShutdown(() => db.end());
    const stores = await postgresStores(db, c.schema, c.queue);
    const smtp = briefSmtpSender(c.smtp);
    ctx.onShutdown(() => smtp.close());
    await smtp.verify();
    const run = deliverBriefs({
      job: ctx.name,
      queue: stores.queue,
      log: stores.log,
      sender: smtp,
      deadLetters: stores.deadLetters,
      concurrency: c.smtp.concurrency,
      ...(c.smtp.ratePerSec === undefined
        ? {}
        : { ratePerSec: c.smtp.ratePerSec }),
      retry: { maxAttempts: c.maxAttempts },
      leaseMs: c.leaseMs,
      pollMs: c.pollMs,
      stopWhenEmpty: c.mode === "run-once",
    });
    ctx.signal.addEventListener("abort", () => void run.stop(), { once: true });
    ctx.ready();
    const summary = await run.done;
    ctx.logger.info("delivery finished", { ...summary });
  },
});
