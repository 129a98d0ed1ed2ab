import { describe, expect, it } from "vitest";
import type { AnyEvent } from "./events.js";
import { transition, type GraceOptions, type OrderState } from "./ordering.js";

const grace: GraceOptions = {
  mode: "timer",
  graceMs: 1_000,
  priorityGraceMs: 100,
  retryMs: 500,
};
const T = 10_000;

const checkout: AnyEvent = {
  type: "UserCheckoutAcceptedIntegrationEvent",
  event: {
    id: "00000000-0000-4000-8000-000000000001",
    creationDate: new Date(T),
    userId: "u1",
    userName: "u1",
    orderNumber: 7,
    city: "c",
    street: "s",
    state: "st",
    country: "co",
    zipCode: "z",
    cardNumber: "4012888888881881",
    cardHolderName: "u1",
    cardExpiration: new Date(T),
    cardTypeId: 1,
    buyer: "u1",
    requestId: "00000000-0000-4000-8000-000000000002",
    basket: {
      buyerId: "u1",
      items: [
        {
          id: "1",
          productId: 3,
          productName: "p",
          unitPrice: "1.00",
          oldUnitPrice: null,
          quantity: 2,
          pictureUrl: null,
        },
      ],
    },
  },
};
const order = (type: AnyEvent["type"]): AnyEvent =>
  ({
    type,
    event: {
      id: "00000000-0000-4000-8000-000000000003",
      creationDate: new Date(T),
      orderId: 7,
      orderStockItems: [],
    },
  }) as unknown as AnyEvent;
const command = (action: "Ship" | "Cancel"): AnyEvent => ({
  type: "OrderCommand",
  event: {
    id: "00000000-0000-4000-8000-000000000004",
    creationDate: new Date(T),
    orderId: 7,
    action,
  },
});

function run(
  inputs: readonly (AnyEvent | { type: "GraceTimer" })[],
  priority = false,
) {
  let state: OrderState | undefined;
  const published: string[] = [];
  for (const input of inputs) {
    const t = transition(state, input, T, grace, priority);
    state = t.state ?? state;
    published.push(...t.publish.map((p) => p.type));
  }
  return { state, published };
}

describe("the Ordering state machine", () => {
  it("submits a checkout: OrderStarted and Submitted, grace timer set", () => {
    const t = transition(undefined, checkout, T, grace, false);
    expect(t.publish.map((p) => p.type)).toEqual([
      "OrderStartedIntegrationEvent",
      "OrderStatusChangedToSubmittedIntegrationEvent",
    ]);
    expect(t.timerAt).toBe(T + 1_000);
    expect(t.state?.items).toEqual([{ productId: 3, units: 2 }]);
  });

  it("gives a priority order the shorter grace period", () => {
    expect(transition(undefined, checkout, T, grace, true).timerAt).toBe(
      T + 100,
    );
  });

  it("walks the happy path to shipped, publishing each step once", () => {
    const { state, published } = run([
      checkout,
      { type: "GraceTimer" },
      order("GracePeriodConfirmedIntegrationEvent"),
      order("OrderStockConfirmedIntegrationEvent"),
      order("OrderPaymentSucceededIntegrationEvent"),
      command("Ship"),
    ]);
    expect(state?.status).toBe("Shipped");
    expect(published).toEqual([
      "OrderStartedIntegrationEvent",
      "OrderStatusChangedToSubmittedIntegrationEvent",
      "GracePeriodConfirmedIntegrationEvent",
      "OrderStatusChangedToAwaitingValidationIntegrationEvent",
      "OrderStatusChangedToStockConfirmedIntegrationEvent",
      "OrderStatusChangedToPaidIntegrationEvent",
      "OrderStatusChangedToShippedIntegrationEvent",
    ]);
  });

  it("ignores every redelivered event", () => {
    const once = run([
      checkout,
      order("GracePeriodConfirmedIntegrationEvent"),
      order("OrderStockConfirmedIntegrationEvent"),
      order("OrderPaymentSucceededIntegrationEvent"),
    ]);
    const twice = run([
      checkout,
      checkout,
      order("GracePeriodConfirmedIntegrationEvent"),
      order("GracePeriodConfirmedIntegrationEvent"),
      order("OrderStockConfirmedIntegrationEvent"),
      order("OrderStockConfirmedIntegrationEvent"),
      order("OrderPaymentSucceededIntegrationEvent"),
      order("OrderPaymentSucceededIntegrationEvent"),
    ]);
    expect(twice.published).toEqual(once.published);
    expect(twice.state).toEqual(once.state);
  });

  it("cancels in the grace period and ignores the late grace confirmation", () => {
    const { state, published } = run([
      checkout,
      command("Cancel"),
      { type: "GraceTimer" },
      order("GracePeriodConfirmedIntegrationEvent"),
    ]);
    expect(state?.status).toBe("Cancelled");
    expect(published.at(-1)).toBe(
      "OrderStatusChangedToCancelledIntegrationEvent",
    );
  });

  it("cancels on stock rejected and on payment failed", () => {
    expect(
      run([
        checkout,
        order("GracePeriodConfirmedIntegrationEvent"),
        order("OrderStockRejectedIntegrationEvent"),
      ]).state?.status,
    ).toBe("Cancelled");
    const failed = run([
      checkout,
      order("GracePeriodConfirmedIntegrationEvent"),
      order("OrderStockConfirmedIntegrationEvent"),
      order("OrderPaymentFailedIntegrationEvent"),
    ]);
    expect(failed.state).toMatchObject({
      status: "Cancelled",
      note: "payment failed",
    });
  });

  it("refuses to ship an unpaid order and to cancel a paid one, saying why", () => {
    const unpaid = run([checkout, command("Ship")]);
    expect(unpaid.state).toMatchObject({
      status: "Submitted",
      note: "cannot ship an order that is Submitted",
    });
    const paid = run([
      checkout,
      order("GracePeriodConfirmedIntegrationEvent"),
      order("OrderStockConfirmedIntegrationEvent"),
      order("OrderPaymentSucceededIntegrationEvent"),
      command("Cancel"),
    ]);
    expect(paid.state).toMatchObject({
      status: "Paid",
      note: "cannot cancel an order that is Paid",
    });
  });

  it("does nothing for an event of an order it never saw", () => {
    expect(
      transition(
        undefined,
        order("OrderPaymentSucceededIntegrationEvent"),
        T,
        grace,
        false,
      ),
    ).toEqual({
      state: undefined,
      publish: [],
    });
  });
});
