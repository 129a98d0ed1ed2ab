import type { PipelineEntry } from "../../runtime/pipelines.js";

/**
 * The e-shop (seeds/003): Ordering, Catalog, Payment and Basket as separate jobs, the
 * grace-period task (run once) and the HTTP API; `sluice demo eshop` runs them all.
 */
export const entry: PipelineEntry = {
  jobs: {
    "eshop-ordering": () => import("./jobs/ordering-job.js"),
    "eshop-catalog": () => import("./jobs/catalog-job.js"),
    "eshop-payment": () => import("./jobs/payment-job.js"),
    "eshop-basket": () => import("./jobs/basket-job.js"),
    "eshop-grace-period-task": () => import("./jobs/grace-period-task-job.js"),
    "eshop-api": () => import("./jobs/api-job.js"),
  },
  demos: {
    eshop: {
      description:
        "e-shop integration events: checkout → grace period → stock → payment → paid, with cancels, priority orders and an HTTP API",
      sizeUnit: "orders",
      run: async (args) => (await import("./demo.js")).runEshopDemo(args),
    },
  },
};
