// `sluice run eshop-catalog`: stock checks and decrements of seeds/003's Catalog.
import { z } from "zod";
import { defineJob } from "../../../runtime/job.js";
import { startCatalog } from "../services.js";
import { PRODUCTS } from "../system.js";
import { busFor, shared, storesFor } from "./connections.js";

/**
 * Confirms or rejects stock for orders awaiting validation and takes paid orders out of
 * stock once per order (PostgreSQL). Seeds the demo catalogue when the product table is empty.
 *
 * @example
 * ```sh
 * KAFKA_BROKERS=127.0.0.1:9092 DATABASE_URL=postgres://sluice:sluice@127.0.0.1:5432/sluice sluice run eshop-catalog --port 9482
 * ```
 */
export default defineJob({
  name: "eshop-catalog",
  description:
    "Catalog: stock per product in PostgreSQL, confirmed or rejected per order.",
  config: z
    .object({ ...shared, seedProducts: z.boolean().default(true) })
    .strict(),
  async run(ctx) {
    const c = ctx.config;
    const bus = await busFor(ctx.runtime, c);
    const { stores } = await storesFor(ctx, ctx.runtime, c.schema);
    if (c.seedProducts && (await stores.stock.products()).length === 0)
      await stores.stock.upsertProducts(PRODUCTS);
    const service = startCatalog(ctx, {
      bus,
      stock: stores.stock,
      groupPrefix: c.groupPrefix,
    });
    // Dead letters on /metrics and in sluice.job_stats (the Pipelines dashboard).
    ctx.trackCounters({
      deadLetters: [{ name: "eshop-catalog", counters: service.badRecords }],
    });
    ctx.ready();
    await service.done;
  },
});
