// `sluice run eshop-payment`: seeds/003's Payment against a payment provider.
import { z } from "zod";
import { defineJob } from "../../../runtime/job.js";
import {
  httpPaymentClient,
  startPaymentSimulator,
} from "../payment-provider.js";
import { startPayment } from "../services.js";
import { busFor, shared } from "./connections.js";

/**
 * Charges orders whose stock is confirmed, one idempotency key per order, and publishes
 * OrderPaymentSucceeded or OrderPaymentFailed. Without `providerUrl` it starts the local
 * provider simulator with `failureRate`.
 *
 * @example
 * ```sh
 * KAFKA_BROKERS=127.0.0.1:9092 SLUICE_JOB__FAILURE_RATE=0.1 sluice run eshop-payment --port 9483
 * ```
 */
export default defineJob({
  name: "eshop-payment",
  description:
    "Payment: one charge per order through the provider (simulated by default).",
  config: z
    .object({
      // All of `shared` (schema unused here), so one environment serves every e-shop job.
      ...shared,
      providerUrl: z.string().url().optional(),
      failureRate: z.number().min(0).max(1).default(0.1),
      latencyMs: z.number().int().min(0).default(20),
      normalConcurrency: z.number().int().positive().default(4),
      priorityConcurrency: z.number().int().positive().default(16),
    })
    .strict(),
  async run(ctx) {
    const c = ctx.config;
    const bus = await busFor(ctx.runtime, c);
    let url = c.providerUrl;
    if (url === undefined) {
      const sim = await startPaymentSimulator({
        failureRate: c.failureRate,
        latencyMs: c.latencyMs,
      });
      ctx.onShutdown(() => sim.close());
      ctx.logger.info("payment provider simulator listening", { url: sim.url });
      url = sim.url;
    }
    const service = startPayment(ctx, {
      bus,
      provider: httpPaymentClient(url),
      groupPrefix: c.groupPrefix,
      normalConcurrency: c.normalConcurrency,
      priorityConcurrency: c.priorityConcurrency,
    });
    // Dead letters on /metrics and in sluice.job_stats (the Pipelines dashboard).
    ctx.trackCounters({
      deadLetters: [{ name: "eshop-payment", counters: service.badRecords }],
    });
    ctx.ready();
    await service.done;
  },
});
