import { afterEach, describe, expect, it } from "vitest";
import {
  httpPaymentClient,
  startPaymentSimulator,
  type PaymentSimulator,
} from "./payment-provider.js";

let sim: PaymentSimulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

describe("the payment provider simulator and its client", () => {
  it("charges once per idempotency key and replays the stored result", async () => {
    sim = await startPaymentSimulator();
    const client = httpPaymentClient(sim.url);
    const first = await client.charge({ orderId: 1, buyer: "ann" }, "order-1");
    const again = await client.charge({ orderId: 1, buyer: "ann" }, "order-1");
    expect(first).toMatchObject({ status: "succeeded", replayed: false });
    expect(again).toEqual({ ...first, replayed: true });
    expect(sim.requests).toBe(2);
    expect(sim.charges.size).toBe(1);
  });

  it("declines the test buyer and a share of charges near the failure rate", async () => {
    sim = await startPaymentSimulator({ failureRate: 0.3, seed: 5 });
    const client = httpPaymentClient(sim.url);
    expect(
      (await client.charge({ orderId: 0, buyer: "declined-bo" }, "order-0"))
        .failureReason,
    ).toBe("card_declined");
    let failed = 0;
    for (let i = 1; i <= 200; i += 1)
      if (
        (await client.charge({ orderId: i, buyer: "b" }, `order-${i}`))
          .status === "failed"
      )
        failed += 1;
    expect(failed).toBeGreaterThan(30);
    expect(failed).toBeLessThan(90);
  });

  it("rejects a failure rate outside 0..1, naming the field", async () => {
    await expect(startPaymentSimulator({ failureRate: 2 })).rejects.toThrow(
      /payment.failureRate must be within 0..1, got 2/,
    );
  });

  it("reports a missing idempotency key as a non-retryable error and an unreachable provider as retryable", async () => {
    sim = await startPaymentSimulator();
    await expect(
      httpPaymentClient(sim.url).charge({ orderId: 1, buyer: "a" }, ""),
    ).rejects.toMatchObject({
      code: "UNAVAILABLE",
      retryable: false,
      message: expect.stringMatching(
        /Idempotency-Key header is required/,
      ) as unknown,
    });
    const url = sim.url;
    await sim.close();
    sim = undefined;
    await expect(
      httpPaymentClient(url).charge({ orderId: 1, buyer: "a" }, "k"),
    ).rejects.toMatchObject({
      code: "UNAVAILABLE",
      retryable: true,
    });
  });
});
