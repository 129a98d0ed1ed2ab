// `sluice run meeting-brief-sender`: the 07:50 delivery (seed 001 step 5).
import { BadRecordCounters } from "../../../operators/dead-letter.js";
import { defineJob } from "../../../runtime/job.js";
import { senderJobConfig } from "../config.js";
import { deliverBriefs } from "../deliver.js";
import { briefSmtpSender, jobStores } from "../wiring.js";

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
    const stores = await jobStores(ctx, c);
    const smtp = briefSmtpSender(c.smtp);
    ctx.onShutdown(() => smtp.close());
    await smtp.verify();
    const badRecords = new BadRecordCounters();
    // Dead letters on /metrics and in sluice.job_stats (the Pipelines dashboard).
    ctx.trackCounters({
      deadLetters: [{ name: "meeting-brief-sender", counters: badRecords }],
    });
    const run = deliverBriefs({
      job: ctx.name,
      badRecords,
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
