import { afterEach, describe, expect, it } from "vitest";
import { MemoryLog } from "../../connectors/memory/index.js";
import { DEAD_LETTER_HEADERS } from "../../connectors/kafka/index.js";
import { memoryCheckpointStore } from "../../runtime/memory-checkpoint-store.js";
import { duplicatingBus, memoryBus, type EshopBus } from "./bus.js";
import { encodeEvent, EVENT_TYPE_HEADER } from "./events.js";
import { runGracePeriodTask } from "./grace-period-task.js";
import { startOrdering } from "./ordering.js";
import { startPaymentSimulator } from "./payment-provider.js";
import { localWiring } from "./bus.js";
import { memoryStores, type EshopStores } from "./stores.js";
import {
  DEFAULT_GRACE,
  PRODUCTS,
  startEshop,
  type RunningEshop,
} from "./system.js";
import { waitFor, waitForStatus } from "./testing/saga.js";

let running: RunningEshop[] = [];
afterEach(async () => {
  await Promise.all(running.map((r) => r.close()));
  running = [];
});

async function embedded(
  options: {
    readonly duplicate?: boolean;
    readonly graceMs?: number;
    readonly log?: MemoryLog;
    readonly stores?: EshopStores;
  } = {},
): Promise<{
  eshop: RunningEshop;
  stores: EshopStores;
  log: MemoryLog;
  bus: EshopBus;
}> {
  const log = options.log ?? new MemoryLog();
  const plain = memoryBus(log, { partitions: 4 });
  const bus = options.duplicate === true ? duplicatingBus(plain) : plain;
  const stores = options.stores ?? memoryStores();
  await stores.stock.upsertProducts(PRODUCTS);
  const eshop = await startEshop({
    bus,
    stores,
    checkpointStore: memoryCheckpointStore(),
    grace: {
      ...DEFAULT_GRACE,
      graceMs: options.graceMs ?? DEFAULT_GRACE.graceMs,
    },
  });
  running.push(eshop);
  return { eshop, stores, log, bus };
}

const stockOf = async (
  stores: EshopStores,
  productId: number,
): Promise<number | undefined> =>
  (await stores.stock.products()).find((p) => p.productId === productId)?.stock;

const order = (
  buyer: string,
  productId = 1,
  quantity = 2,
  priority = false,
) => ({
  buyer,
  items: [{ productId, quantity }],
  priority,
});

describe("the e-shop on the embedded log", () => {
  it("takes an order from checkout to paid, then ships it, and empties the basket", async () => {
    const { eshop, stores } = await embedded();
    const id = await eshop.api!.placeOrder(order("alice"));
    await waitForStatus(stores.views, id, "Paid");
    // Catalog and Basket act on the events after Paid is written: wait for them.
    await waitFor("2 units of product 1 out of stock", async () =>
      (await stockOf(stores, 1)) === 98 ? true : undefined,
    );
    await waitFor("the basket emptied", async () =>
      (await stores.baskets.get("alice")) === undefined ? true : undefined,
    );
    const res = await fetch(`${eshop.api!.url}/orders/${id}/ship`, {
      method: "PUT",
    });
    expect(res.status).toBe(202);
    await waitForStatus(stores.views, id, "Shipped");
    expect(eshop.payments.charges.size).toBe(1);
  });

  it("cancels an order whose stock is rejected, and never charges it", async () => {
    const { eshop, stores } = await embedded();
    const id = await eshop.api!.placeOrder(order("bob", 4, 2));
    await waitForStatus(stores.views, id, "Cancelled");
    expect((await stores.views.get(id))?.note).toMatch(
      /stock rejected for products 4/,
    );
    expect(eshop.payments.charges.size).toBe(0);
    expect(
      (await stores.stock.products()).find((p) => p.productId === 4)?.stock,
    ).toBe(1);
  });

  it("cancels an order whose payment fails, and leaves the stock alone", async () => {
    const { eshop, stores } = await embedded();
    const id = await eshop.api!.placeOrder(order("declined-carol"));
    await waitForStatus(stores.views, id, "Cancelled");
    expect((await stores.views.get(id))?.note).toBe("payment failed");
    expect(
      (await stores.stock.products()).find((p) => p.productId === 1)?.stock,
    ).toBe(100);
  });

  it("cancels during the grace period: the order never reaches validation", async () => {
    const { eshop, stores } = await embedded({ graceMs: 1_500 });
    const id = await eshop.api!.placeOrder(order("dave"));
    await waitForStatus(stores.views, id, "Submitted");
    const res = await fetch(`${eshop.api!.url}/orders/${id}/cancel`, {
      method: "PUT",
    });
    expect(res.status).toBe(202);
    await waitForStatus(stores.views, id, "Cancelled");
    await new Promise((r) => setTimeout(r, 2_000)); // past the grace period
    expect((await stores.views.get(id))?.status).toBe("Cancelled");
    expect(eshop.payments.requests).toBe(0);
  });

  it("sends priority orders down the priority handler path", async () => {
    const { eshop, stores } = await embedded();
    const normal = await eshop.api!.placeOrder(order("erin"));
    const urgent = await eshop.api!.placeOrder(order("frank", 2, 1, true));
    await waitForStatus(stores.views, normal, "Paid");
    await waitForStatus(stores.views, urgent, "Paid");
    expect(eshop.payment.paths).toEqual({ priority: 1, normal: 1 });
    expect((await stores.views.get(urgent))?.priority).toBe(true);
  });

  it("charges once and decrements stock once when every event is delivered twice", async () => {
    const { eshop, stores } = await embedded({ duplicate: true });
    const ids = [];
    for (let i = 0; i < 6; i += 1)
      ids.push(
        await eshop.api!.placeOrder(
          order(i === 5 ? "declined-gil" : `buyer-${i}`, 1, 1),
        ),
      );
    for (const id of ids.slice(0, 5))
      await waitForStatus(stores.views, id, "Paid");
    await waitForStatus(stores.views, ids[5]!, "Cancelled");
    await waitFor("the duplicate paid events", () =>
      eshop.catalog.decrements.repeated >= 5 ? true : undefined,
    );
    expect(eshop.payments.charges.size).toBe(6);
    expect(eshop.payments.requests).toBeGreaterThan(6);
    expect(eshop.catalog.decrements.applied).toBe(5);
    expect(
      (await stores.stock.products()).find((p) => p.productId === 1)?.stock,
    ).toBe(95);
    const counts = await stores.views.countByStatus();
    expect(counts.get("Paid")).toBe(5);
    expect(counts.get("Cancelled")).toBe(1);
  });

  it("retries the charge through a provider outage instead of dead-lettering the order", async () => {
    const { eshop, stores } = await embedded();
    const port = Number(new URL(eshop.payments.url).port);
    await eshop.payments.close();
    const id = await eshop.api!.placeOrder(order("lena"));
    await waitForStatus(stores.views, id, "StockConfirmed");
    await new Promise((r) => setTimeout(r, 300)); // a failed attempt or two
    const back = await startPaymentSimulator({ port });
    try {
      await waitForStatus(stores.views, id, "Paid");
      expect(back.charges.size).toBe(1);
      expect(eshop.payment.badRecords.deadLettered).toBe(0);
    } finally {
      await back.close();
    }
  });

  it("sends a malformed event to the dead letters with its reason and goes on", async () => {
    const { eshop, stores, log, bus } = await embedded();
    log.append(bus.topic("payment-status"), {
      key: "999",
      value: Buffer.from("definitely not avro"),
      headers: { [EVENT_TYPE_HEADER]: "OrderPaymentSucceededIntegrationEvent" },
    });
    log.append(bus.topic("stock-confirmed"), {
      key: "998",
      value: encodeEvent("OrderStartedIntegrationEvent", {
        id: "00000000-0000-4000-8000-000000000000",
        creationDate: new Date(),
        userId: "x",
      }),
      headers: { [EVENT_TYPE_HEADER]: "OrderStartedIntegrationEvent" },
    });
    const dead = await waitFor("two dead letters", () => {
      const rs = log.read(bus.topic("eshop-dead-letters"), 0, 0, 10);
      return rs.length >= 2 ? rs : undefined;
    });
    const reasons = dead.map((d) => d.headers[DEAD_LETTER_HEADERS.message]);
    expect(reasons).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/bad magic/),
        expect.stringMatching(
          /OrderStartedIntegrationEvent does not travel on this topic/,
        ),
      ]),
    );
    expect(
      dead.every((d) => d.headers[DEAD_LETTER_HEADERS.code] === "DECODE"),
    ).toBe(true);
    const id = await eshop.api!.placeOrder(order("hana"));
    await waitForStatus(stores.views, id, "Paid");
  });

  it("shares Ordering between two instances of one group across a rebalance", async () => {
    const { eshop, stores, log } = await embedded();
    const first = [];
    for (let i = 0; i < 8; i += 1)
      first.push(await eshop.api!.placeOrder(order(`p${i}`, 3, 1)));
    const second = eshop.addOrderingInstance("second");
    await log.rebalance("eshop-ordering");
    const more = [];
    for (let i = 0; i < 8; i += 1)
      more.push(await eshop.api!.placeOrder(order(`q${i}`, 3, 1)));
    for (const id of [...first, ...more])
      await waitForStatus(stores.views, id, "Paid");
    expect(eshop.payments.charges.size).toBe(16);
    await waitFor("16 units of product 3 out of stock", async () =>
      (await stockOf(stores, 3)) === 84 ? true : undefined,
    );
    // Both instances own a share of ordering-inbox's four partitions.
    expect(eshop.ordering.owned?.()).toBe(2);
    expect(second.service.owned?.()).toBe(2);
    await second.wiring.close();
  });

  it("keeps the grace-period timer across a restart of Ordering (checkpointed state)", async () => {
    const log = new MemoryLog();
    const bus = memoryBus(log, { partitions: 2 });
    const stores = memoryStores();
    await stores.stock.upsertProducts(PRODUCTS);
    const store = memoryCheckpointStore();
    const grace = { ...DEFAULT_GRACE, graceMs: 1_500 };
    const eshop = await startEshop({
      bus,
      stores,
      checkpointStore: store,
      grace,
    });
    running.push(eshop);
    const id = await eshop.api!.placeOrder(order("ivy"));
    await waitForStatus(stores.views, id, "Submitted");
    await eshop.wirings.ordering.close(); // final checkpoint holds the timer
    await new Promise((r) => setTimeout(r, 1_700)); // the grace period ends while it is down
    expect((await stores.views.get(id))?.status).toBe("Submitted");
    const w = localWiring({ job: "eshop-ordering", store });
    startOrdering(w, {
      bus,
      views: stores.views,
      grace,
      groupPrefix: "eshop-",
    });
    await waitForStatus(stores.views, id, "Paid");
    await w.close();
  });

  it("runs the grace period as a separate task that records its runs", async () => {
    const log = new MemoryLog();
    const bus = memoryBus(log, { partitions: 2 });
    const stores = memoryStores();
    await stores.stock.upsertProducts(PRODUCTS);
    const grace = { ...DEFAULT_GRACE, mode: "task" as const, graceMs: 200 };
    const eshop = await startEshop({
      bus,
      stores,
      checkpointStore: memoryCheckpointStore(),
      grace,
    });
    running.push(eshop);
    const id = await eshop.api!.placeOrder(order("jo"));
    await waitForStatus(stores.views, id, "Submitted");
    const early = await runGracePeriodTask({
      bus,
      views: stores.views,
      runs: stores.taskRuns,
      graceMs: 60_000,
    });
    expect(early.confirmed).toBe(0);
    await new Promise((r) => setTimeout(r, 300));
    const due = await runGracePeriodTask({
      bus,
      views: stores.views,
      runs: stores.taskRuns,
      graceMs: 200,
    });
    expect(due.confirmed).toBe(1);
    await waitForStatus(stores.views, id, "Paid");
    const runs = await stores.taskRuns.list();
    expect(runs.map((r) => [r.confirmed, r.exitMessage])).toEqual([
      [0, "COMPLETED"],
      [1, "COMPLETED"],
    ]);
  });

  it("applies a price change to open baskets", async () => {
    const { eshop, stores } = await embedded();
    const put = await fetch(`${eshop.api!.url}/baskets/kim`, {
      method: "PUT",
      body: JSON.stringify({ items: [{ productId: 2, quantity: 3 }] }),
    });
    expect(put.status).toBe(200);
    const res = await fetch(`${eshop.api!.url}/products/2/price`, {
      method: "PUT",
      body: JSON.stringify({ price: "9.99" }),
    });
    expect(await res.json()).toEqual({
      productId: 2,
      price: "9.99",
      oldPrice: "8.50",
    });
    const basket = await waitFor("the new price in the basket", async () => {
      const b = await stores.baskets.get("kim");
      return b?.items[0]?.unitPrice === "9.99" ? b : undefined;
    });
    expect(basket.items[0]?.oldUnitPrice).toBe("8.50");
  });
});
