import { afterEach, describe, expect, it } from "vitest";
import type { ActionKey } from "../../../connectors/fanout/action-log.js";
import { SluiceError } from "../../../operators/sluice-error.js";
import { classifyWhatsAppError, whatsAppClient } from "./client.js";
import { startWhatsAppSimulator, type WhatsAppSimulator } from "./simulator.js";

const key: ActionKey = {
  firingId: "birthday-promo@2026-11-22",
  recipient: "u1",
  action: "whatsapp",
};
const message = {
  to: "+628123456789",
  template: { name: "birthday_promo", language: { code: "id" } },
};
let sim: WhatsAppSimulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

describe("WhatsApp Cloud API client against the simulator", () => {
  it("posts a template message to /{version}/{phone-number-id}/messages and returns the wamid", async () => {
    sim = await startWhatsAppSimulator();
    const wa = whatsAppClient({
      baseUrl: sim.baseUrl,
      phoneNumberId: sim.phoneNumberId,
      accessToken: sim.accessToken,
    });
    expect(wa.endpoint).toBe(
      `${sim.baseUrl}/v21.0/${sim.phoneNumberId}/messages`,
    );
    const r = await wa.send(message, key);
    expect(r.providerId).toMatch(/^wamid\./);
    expect(sim.accepted[0]?.request).toMatchObject({
      messaging_product: "whatsapp",
      recipient_type: "individual",
      to: "628123456789",
      type: "template",
      template: { name: "birthday_promo", language: { code: "id" } },
    });
    expect(sim.accepted[0]?.request.biz_opaque_callback_data).toMatch(
      /^[0-9a-f]{32}$/,
    );
  });

  it("a wrong token is a CONFIG error, not retried", async () => {
    sim = await startWhatsAppSimulator();
    const wa = whatsAppClient({
      baseUrl: sim.baseUrl,
      phoneNumberId: sim.phoneNumberId,
      accessToken: "nope",
    });
    const e = await wa.send(message, key).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(SluiceError);
    expect((e as SluiceError).code).toBe("CONFIG");
    expect((e as SluiceError).retryable).toBe(false);
  });

  it("an injected failure is retryable; an invalid number is not", async () => {
    sim = await startWhatsAppSimulator({ failureRate: 1 });
    const wa = whatsAppClient({
      baseUrl: sim.baseUrl,
      phoneNumberId: sim.phoneNumberId,
      accessToken: sim.accessToken,
    });
    const e = (await wa
      .send(message, key)
      .catch((x: unknown) => x)) as SluiceError;
    expect(e.retryable).toBe(true);
    sim.setFailureRate(0);
    const bad = (await wa
      .send({ ...message, to: "12" }, key)
      .catch((x: unknown) => x)) as SluiceError;
    expect([bad.code, bad.retryable]).toEqual(["VALIDATE", false]);
    expect(bad.message).toMatch(/131009/);
  });

  it("a refused connection is a retryable CONNECTION error", async () => {
    const wa = whatsAppClient({
      baseUrl: "http://127.0.0.1:9",
      phoneNumberId: "1",
      accessToken: "t",
      timeoutMs: 2_000,
    });
    const e = (await wa
      .send(message, key)
      .catch((x: unknown) => x)) as SluiceError;
    expect([e.code, e.retryable]).toEqual(["CONNECTION", true]);
  });
});

describe("classifyWhatsAppError", () => {
  const body = (code: number) => ({
    error: { message: "m", type: "OAuthException", code },
  });
  it.each([
    [429, 130429, "RATE_LIMITED", true],
    [400, 131056, "RATE_LIMITED", true],
    [500, 131000, "UNAVAILABLE", true],
    [503, 131016, "RATE_LIMITED", true],
    [401, 190, "CONFIG", false],
    [400, 131009, "VALIDATE", false],
    [404, 803, "VALIDATE", false],
  ] as const)(
    "HTTP %i code %i is %s (retryable %s)",
    (status, code, expected, retryable) => {
      const e = classifyWhatsAppError(status, body(code), "send");
      expect([e.code, e.retryable]).toEqual([expected, retryable]);
    },
  );
});
