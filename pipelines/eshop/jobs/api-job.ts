// `sluice run eshop-api`: the HTTP API a person drives the e-shop with.
import { z } from "zod";
import { defineJob } from "../../../runtime/job.js";
import { startApi } from "../api.js";
import { aborted, busFor, shared, storesFor } from "./connections.js";

/**
 * Serves `POST /orders`, `GET /orders/:id`, `PUT /orders/:id/ship|cancel`, baskets and
 * product prices (see pipelines/eshop/README.md) on `port`.
 *
 * @example
 * ```sh
 * KAFKA_BROKERS=127.0.0.1:9092 DATABASE_URL=postgres://sluice:sluice@127.0.0.1:5432/sluice sluice run eshop-api --port 9485
 * ```
 */
export default defineJob({
  name: "eshop-api",
  description:
    "HTTP API: place orders, read their status, ship, cancel, change prices.",
  config: z
    .object({
      ...shared,
      host: z.string().min(1).default("0.0.0.0"),
      port: z.number().int().min(0).max(65535).default(8080),
    })
    .strict(),
  async run(ctx) {
    const c = ctx.config;
    const bus = await busFor(ctx.runtime, c);
    const { stores } = await storesFor(ctx, ctx.runtime, c.schema);
    const api = await startApi({ bus, stores, port: c.port, host: c.host });
    ctx.onShutdown(() => api.close());
    ctx.logger.info("e-shop API listening", { url: api.url });
    ctx.ready();
    await aborted(ctx.signal);
  },
});
