// `sluice run eshop-basket`: seeds/003's Basket handlers.
import { z } from "zod";
import { defineJob } from "../../../runtime/job.js";
import { startBasket } from "../services.js";
import { busFor, shared, storesFor } from "./connections.js";

/**
 * Applies ProductPriceChanged to the open baskets (PostgreSQL) and empties a buyer's basket
 * on OrderStarted. Checkout itself is the API's `POST /orders`.
 *
 * @example
 * ```sh
 * KAFKA_BROKERS=127.0.0.1:9092 DATABASE_URL=postgres://sluice:sluice@127.0.0.1:5432/sluice sluice run eshop-basket --port 9484
 * ```
 */
export default defineJob({
  name: "eshop-basket",
  description:
    "Basket: price changes into open baskets, baskets emptied on OrderStarted.",
  config: z.object(shared).strict(),
  async run(ctx) {
    const c = ctx.config;
    const bus = await busFor(ctx.runtime, c);
    const { stores } = await storesFor(ctx, ctx.runtime, c.schema);
    const service = startBasket(ctx, {
      bus,
      baskets: stores.baskets,
      groupPrefix: c.groupPrefix,
    });
    // Dead letters on /metrics and in sluice.job_stats (the Pipelines dashboard).
    ctx.trackCounters({
      deadLetters: [{ name: "eshop-basket", counters: service.badRecords }],
    });
    ctx.ready();
    await service.done;
  },
});
