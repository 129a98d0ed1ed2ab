import { MemoryLog } from "../../connectors/memory/index.js";
import { memoryCheckpointStore } from "../../runtime/memory-checkpoint-store.js";
import type { DemoArgs } from "../../runtime/pipelines.js";
import { requireServices } from "../../stack/index.js";
import { memoryBus, type EshopBus } from "./bus.js";
import type { OrderStatus } from "./events.js";
import type { CheckpointStore } from "../../connectors/checkpoint-store.js";
import {
  startEshop,
  PRODUCTS,
  DEFAULT_GRACE,
  type RunningEshop,
} from "./system.js";
import { seededRandom } from "../reviews/random.js";
import { memoryStores, type EshopStores } from "./stores.js";
import { openEshopStack } from "./testing/stack-fixture.js";
import { waitForStatus } from "./testing/saga.js";

const FINAL: readonly OrderStatus[] = ["Paid", "Shipped", "Cancelled"];
const STATUSES: readonly OrderStatus[] = [
  "Submitted",
  "AwaitingValidation",
  "StockConfirmed",
  "Paid",
  "Shipped",
  "Cancelled",
];

/** What {@link driveOrders} measured. */
export interface SagaRun {
  readonly orders: number;
  readonly byStatus: ReadonlyMap<OrderStatus, number>;
  /** Checkout → Paid, ms, sorted. */
  readonly toPaidMs: readonly number[];
  /** Orders that ended Paid. */
  readonly paidIds: readonly number[];
  /** First checkout → last order final. */
  readonly elapsedMs: number;
}

/**
 * Places `orders` orders through the API (a mix: some priority, some for the scarce product,
 * some cancelled during the grace period when `cancelShare` > 0), waits until every one is
 * final, and measures checkout → paid from the order views.
 */
export async function driveOrders(
  eshop: RunningEshop,
  stores: EshopStores,
  o: {
    readonly orders: number;
    readonly seed: number;
    readonly cancelShare?: number;
    readonly scarceShare?: number;
    readonly onProgress?: (
      byStatus: ReadonlyMap<OrderStatus, number>,
      elapsedMs: number,
    ) => void;
    readonly timeoutMs?: number;
    /** Checkouts placed at once. Default 1. */
    readonly concurrency?: number;
  },
): Promise<SagaRun> {
  const api = eshop.api;
  if (api === undefined)
    throw new Error("driveOrders needs the e-shop started with its API");
  // Seeded (mulberry32), so a seed repeats a run.
  const rnd = seededRandom(o.seed);
  const finalIn = (m: ReadonlyMap<OrderStatus, number>): number =>
    FINAL.reduce((n, s) => n + (m.get(s) ?? 0), 0);
  const finalBefore = finalIn(await stores.views.countByStatus()); // a kept schema's old orders
  const placed = new Map<number, number>();
  const cancel: number[] = [];
  const start = Date.now();
  const plans = Array.from({ length: o.orders }, (_, i) => {
    const scarce = rnd() < (o.scarceShare ?? 0.05);
    return {
      buyer: `buyer-${i}`,
      items: [
        {
          productId: scarce ? 4 : 1 + Math.floor(rnd() * 3),
          quantity: scarce ? 2 : 1,
        },
      ],
      priority: rnd() < 0.2,
      cancel: rnd() < (o.cancelShare ?? 0),
    };
  });
  const concurrency = o.concurrency ?? 1;
  for (let i = 0; i < plans.length; i += concurrency)
    await Promise.all(
      plans.slice(i, i + concurrency).map(async ({ cancel: c, ...body }) => {
        const at = Date.now();
        const id = await api.placeOrder(body);
        placed.set(id, at);
        if (c) cancel.push(id);
      }),
    );
  for (const id of cancel)
    await fetch(`${api.url}/orders/${id}/cancel`, { method: "PUT" }).then((r) =>
      r.text(),
    );
  const deadline = Date.now() + (o.timeoutMs ?? 120_000);
  let last = 0;
  for (;;) {
    const counts = await stores.views.countByStatus();
    const final = finalIn(counts) - finalBefore;
    if (
      o.onProgress !== undefined &&
      (Date.now() - last >= 250 || final >= o.orders)
    ) {
      last = Date.now();
      o.onProgress(counts, Date.now() - start);
    }
    if (final >= o.orders) break;
    if (Date.now() > deadline)
      throw new Error(
        `${o.orders - final} orders not final after ${o.timeoutMs ?? 120_000} ms`,
      );
    await new Promise((r) => setTimeout(r, 20));
  }
  const elapsedMs = Date.now() - start;
  const toPaidMs: number[] = [];
  const paidIds: number[] = [];
  for (const [id, at] of placed) {
    const v = await stores.views.get(id);
    if (v?.status !== "Paid") continue;
    toPaidMs.push(v.updatedAt - at);
    paidIds.push(id);
  }
  toPaidMs.sort((a, b) => a - b);
  return {
    orders: o.orders,
    byStatus: await stores.views.countByStatus(),
    toPaidMs,
    paidIds,
    elapsedMs,
  };
}

/** The value at quantile `q` of sorted numbers. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return (
    sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ??
    Number.NaN
  );
}

const line = (m: ReadonlyMap<OrderStatus, number>): string =>
  STATUSES.map((s) => `${s} ${m.get(s) ?? 0}`).join(" · ");

/**
 * `sluice demo eshop`: the e-shop of seeds/003 on the embedded log and stores (or, with
 * `--stack local`, on Kafka and PostgreSQL): places `--size` orders through the HTTP API,
 * prints the orders moving through their states, then a summary.
 */
export async function runEshopDemo(args: DemoArgs): Promise<void> {
  const orders = args.size ?? 40;
  let bus: EshopBus;
  let stores: EshopStores;
  let checkpointStore: CheckpointStore;
  let groupPrefix = "eshop-";
  let cleanup: () => Promise<void> = () => Promise.resolve();
  if (args.stack === "local") {
    const env = await requireServices(["kafka", "postgres"]);
    const runId =
      args.keep !== undefined
        ? `eshop_${args.keep}`
        : `eshop_demo_${Date.now().toString(36)}`;
    const stack = await openEshopStack(env, runId, {
      partitions: args.partitions,
    });
    ({ bus, stores, checkpointStore, groupPrefix } = stack);
    cleanup =
      args.keep !== undefined ? () => stack.db.end() : () => stack.close();
    console.log(
      `e-shop on Kafka (topics ${runId}.*) and PostgreSQL (schema ${runId})`,
    );
  } else {
    bus = memoryBus(new MemoryLog(), { partitions: args.partitions });
    stores = memoryStores();
    await stores.stock.upsertProducts(PRODUCTS);
    checkpointStore = memoryCheckpointStore();
    console.log("e-shop on the embedded log and stores");
  }
  const eshop = await startEshop({
    bus,
    stores,
    checkpointStore,
    groupPrefix,
    grace: { ...DEFAULT_GRACE, graceMs: 1_000, priorityGraceMs: 100 },
    payment: { failureRate: 0.1, latencyMs: 5, seed: args.seed },
  });
  try {
    console.log(
      `HTTP API at ${eshop.api!.url} — placing ${orders} orders (20% priority, 10% cancelled in the grace period)`,
    );
    const run = await driveOrders(eshop, stores, {
      orders,
      seed: args.seed,
      cancelShare: 0.1,
      concurrency: 10,
      onProgress: (m, ms) =>
        console.log(`  ${(ms / 1000).toFixed(1).padStart(5)} s  ${line(m)}`),
    });
    const ship = run.paidIds.slice(0, Math.ceil(run.paidIds.length / 2));
    console.log(`\nshipping ${ship.length} paid orders (PUT /orders/:id/ship)`);
    for (const id of ship)
      await fetch(`${eshop.api!.url}/orders/${id}/ship`, {
        method: "PUT",
      }).then((r) => r.text());
    for (const id of ship)
      await waitForStatus(stores.views, id, "Shipped", 60_000);
    console.log(`  ${line(await stores.views.countByStatus())}`);
    const stock = await stores.stock.products();
    console.log("\nSummary");
    console.log(
      `  orders           ${run.orders} in ${(run.elapsedMs / 1000).toFixed(1)} s`,
    );
    console.log(
      `  final states     ${line(await stores.views.countByStatus())}`,
    );
    console.log(
      `  charges          ${eshop.payments.charges.size} (provider requests ${eshop.payments.requests}; priority path ${eshop.payment.paths.priority}, normal ${eshop.payment.paths.normal})`,
    );
    console.log(
      `  checkout → paid  p50 ${quantile(run.toPaidMs, 0.5)} ms, p99 ${quantile(run.toPaidMs, 0.99)} ms (includes the grace period)`,
    );
    console.log(
      `  stock            ${stock.map((p) => `#${p.productId} ${p.stock}`).join(", ")}`,
    );
    console.log(
      `  dead letters     ${eshop.ordering.badRecords.deadLettered + eshop.catalog.badRecords.deadLettered + eshop.payment.badRecords.deadLettered + eshop.basket.badRecords.deadLettered}`,
    );
  } finally {
    await eshop.close();
    await cleanup();
  }
}
