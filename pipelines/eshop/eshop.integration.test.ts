import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { firstValueFrom, filter, take, toArray } from "rxjs";
import {
  DEAD_LETTER_HEADERS,
  kafkaSink,
  kafkaSource,
} from "../../connectors/kafka/index.js";
import { requireServices, type Endpoints } from "../../stack/index.js";
import { uniqueName } from "../../stack/smoke/wait.js";
import { duplicatingBus } from "./bus.js";
import { EVENT_TYPE_HEADER } from "./events.js";
import { DEFAULT_GRACE, startEshop, type RunningEshop } from "./system.js";
import { openEshopStack, type EshopStack } from "./testing/stack-fixture.js";
import { waitFor, waitForStatus } from "./testing/saga.js";

let env: Endpoints;
const open: { stack: EshopStack; eshop?: RunningEshop }[] = [];

beforeAll(async () => {
  env = await requireServices(["kafka", "postgres"]);
});

afterEach(async () => {
  for (const o of open.splice(0)) {
    await o.eshop?.close();
    await o.stack.close();
  }
});

async function onStack(
  options: { readonly duplicate?: boolean; readonly graceMs?: number } = {},
): Promise<{ stack: EshopStack; eshop: RunningEshop }> {
  const stack = await openEshopStack(
    env,
    uniqueName("eshop").replace(/[^a-z0-9_]/g, ""),
    {
      partitions: 3,
    },
  );
  const entry: { stack: EshopStack; eshop?: RunningEshop } = { stack };
  open.push(entry);
  const eshop = await startEshop({
    bus: options.duplicate === true ? duplicatingBus(stack.bus) : stack.bus,
    stores: stack.stores,
    checkpointStore: stack.checkpointStore,
    groupPrefix: stack.groupPrefix,
    grace: { ...DEFAULT_GRACE, graceMs: options.graceMs ?? 300 },
  });
  entry.eshop = eshop;
  return { stack, eshop };
}

const order = (
  buyer: string,
  productId = 1,
  quantity = 1,
  priority = false,
) => ({
  buyer,
  items: [{ productId, quantity }],
  priority,
});
const stockOf = async (
  stack: EshopStack,
  productId: number,
): Promise<number | undefined> =>
  (await stack.stores.stock.products()).find((p) => p.productId === productId)
    ?.stock;

describe("the e-shop on Kafka and PostgreSQL", () => {
  it("runs paid, stock-rejected, payment-failed, cancelled-in-grace and priority orders", async () => {
    const { stack, eshop } = await onStack({ graceMs: 4_000 });
    const api = eshop.api!;
    const paid = await api.placeOrder(order("alice", 1, 2, true));
    const rejected = await api.placeOrder(order("bob", 4, 2, true));
    const declined = await api.placeOrder(order("declined-carol", 2, 1, true));
    const cancelled = await api.placeOrder(order("dave", 3, 1));
    await waitForStatus(stack.stores.views, cancelled, "Submitted");
    const res = await fetch(`${api.url}/orders/${cancelled}/cancel`, {
      method: "PUT",
    });
    expect(res.status).toBe(202);
    await waitForStatus(stack.stores.views, paid, "Paid");
    await waitForStatus(stack.stores.views, rejected, "Cancelled");
    await waitForStatus(stack.stores.views, declined, "Cancelled");
    await waitForStatus(stack.stores.views, cancelled, "Cancelled");
    expect((await stack.stores.views.get(rejected))?.note).toMatch(
      /stock rejected/,
    );
    expect((await stack.stores.views.get(declined))?.note).toBe(
      "payment failed",
    );
    expect((await stack.stores.views.get(cancelled))?.note).toBe(
      "cancelled by the buyer",
    );
    await waitFor("the paid units out of stock", async () =>
      (await stockOf(stack, 1)) === 98 ? true : undefined,
    );
    expect(await stockOf(stack, 2)).toBe(100);
    expect(await stockOf(stack, 4)).toBe(1);
    expect(eshop.payment.paths).toEqual({ priority: 2, normal: 0 });
    expect([...eshop.payments.charges.keys()].sort()).toEqual(
      [`order-${declined}`, `order-${paid}`].sort(),
    );
    await fetch(`${api.url}/orders/${paid}/ship`, { method: "PUT" });
    await waitForStatus(stack.stores.views, paid, "Shipped");
    const got = (await (await fetch(`${api.url}/orders/${paid}`)).json()) as {
      status: string;
    };
    expect(got.status).toBe("Shipped");
  });

  it("charges once and decrements stock once when every event is delivered twice", async () => {
    const { stack, eshop } = await onStack({ duplicate: true });
    const ids: number[] = [];
    for (let i = 0; i < 5; i += 1)
      ids.push(
        await eshop.api!.placeOrder(
          order(i === 4 ? "declined-x" : `dup-${i}`, 1, 1),
        ),
      );
    for (const id of ids.slice(0, 4))
      await waitForStatus(stack.stores.views, id, "Paid");
    await waitForStatus(stack.stores.views, ids[4]!, "Cancelled");
    await waitFor("every duplicate paid event handled", () =>
      eshop.catalog.decrements.repeated >= 4 ? true : undefined,
    );
    expect(eshop.payments.charges.size).toBe(5);
    expect(eshop.payments.requests).toBeGreaterThan(5);
    expect(eshop.catalog.decrements.applied).toBe(4);
    expect(await stockOf(stack, 1)).toBe(96);
    const counts = await stack.stores.views.countByStatus();
    expect(counts.get("Paid")).toBe(4);
    expect(counts.get("Cancelled")).toBe(1);
  });

  it("shares Ordering between two instances of one group, with rebalances in the middle", async () => {
    const { stack, eshop } = await onStack();
    const ids: number[] = [];
    for (let i = 0; i < 6; i += 1)
      ids.push(await eshop.api!.placeOrder(order(`a${i}`, 3, 1)));
    const second = eshop.addOrderingInstance("second");
    await waitFor("both instances to own inbox partitions", () =>
      (second.service.owned?.() ?? 0) > 0 && (eshop.ordering.owned?.() ?? 0) > 0
        ? true
        : undefined,
    );
    expect(
      (second.service.owned?.() ?? 0) + (eshop.ordering.owned?.() ?? 0),
    ).toBe(3);
    for (let i = 0; i < 6; i += 1)
      ids.push(await eshop.api!.placeOrder(order(`b${i}`, 3, 1)));
    await waitForStatus(stack.stores.views, ids[0]!, "Paid", 20_000);
    await eshop.wirings.ordering.close(); // the first instance leaves: the second takes all
    await waitFor("the second instance to own all three", () =>
      second.service.owned?.() === 3 ? true : undefined,
    );
    for (let i = 0; i < 6; i += 1)
      ids.push(await eshop.api!.placeOrder(order(`c${i}`, 3, 1)));
    for (const id of ids)
      await waitForStatus(stack.stores.views, id, "Paid", 20_000);
    expect(eshop.payments.charges.size).toBe(18);
    await waitFor("18 units of product 3 taken", async () =>
      (await stockOf(stack, 3)) === 82 ? true : undefined,
    );
    await second.wiring.close();
  });

  it("fires a checkpointed grace-period timer after Ordering is killed and restarted", async () => {
    const { stack, eshop } = await onStack({ graceMs: 2_500 });
    const id = await eshop.api!.placeOrder(order("phoenix", 2, 1));
    await waitForStatus(stack.stores.views, id, "Submitted");
    await eshop.wirings.ordering.checkpoint();
    await eshop.wirings.ordering.kill(); // no drain, no final checkpoint, no commit
    await new Promise((r) => setTimeout(r, 2_600)); // the grace period ends while it is down
    expect((await stack.stores.views.get(id))?.status).toBe("Submitted");
    const restarted = eshop.addOrderingInstance("restarted");
    await waitForStatus(stack.stores.views, id, "Paid", 20_000);
    expect(eshop.payments.charges.size).toBe(1);
    await restarted.wiring.close();
  });

  it("sends malformed events to the dead-letter topic with the reason", async () => {
    const { stack, eshop } = await onStack();
    const raw = kafkaSink<Buffer>({
      brokers: env.kafkaBrokers,
      encode: (b) => b,
    });
    await raw.connect();
    await raw.write([
      {
        topic: stack.bus.topic("payment-status"),
        key: "999",
        value: Buffer.from("definitely not avro"),
        headers: {
          [EVENT_TYPE_HEADER]: "OrderPaymentSucceededIntegrationEvent",
        },
      },
      {
        topic: stack.bus.topic("paid-orders"),
        key: "998",
        value: Buffer.from("x"),
      },
    ]);
    await raw.close();
    const reader = kafkaSource<Buffer>({
      brokers: env.kafkaBrokers,
      group: `${stack.groupPrefix}dlq-reader`,
      topics: [stack.bus.topic("eshop-dead-letters")],
      decode: (b) => b,
      deadLetterTopic: stack.bus.topic("eshop-dead-letters"),
    });
    const dead = await firstValueFrom(
      reader.records().pipe(
        filter((r) => (r.ack.ack(), true)),
        take(2),
        toArray(),
      ),
    );
    await reader.close();
    const reasons = dead.map((d) => d.headers[DEAD_LETTER_HEADERS.message]);
    expect(reasons).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /paid-orders: record has no eshop.event-type header/,
        ),
        expect.stringMatching(/^bad magic/),
      ]),
    );
    expect(dead.map((d) => d.headers[DEAD_LETTER_HEADERS.code])).toEqual([
      "DECODE",
      "DECODE",
    ]);
    const id = await eshop.api!.placeOrder(order("after-the-bad-ones"));
    await waitForStatus(stack.stores.views, id, "Paid");
  });
});
