import { afterEach, describe, expect, it } from "vitest";
import type { ActionKey } from "../fanout/action-log.js";
import { smtpMessageId, smtpSender } from "./sender.js";
import { startSmtpCapture, type SmtpCapture } from "./testing/smtp-capture.js";

const key: ActionKey = {
  firingId: "job@2026-11-21T17:01:00.000Z",
  recipient: "u-1",
  action: "email",
};
let capture: SmtpCapture | undefined;
afterEach(async () => {
  await capture?.close();
  capture = undefined;
});

describe("smtpSender", () => {
  it("sends with AUTH over the pool, with the Message-ID derived from the action key", async () => {
    capture = await startSmtpCapture({
      auth: { user: "promo", pass: "s3cret" },
    });
    const smtp = smtpSender({
      host: capture.host,
      port: capture.port,
      auth: { user: "promo", pass: { reveal: () => "s3cret" } },
      from: "Promo <promo@example.com>",
      messageIdDomain: "example.com",
    });
    const r = await smtp.send(
      { to: "ana@example.com", subject: "Hi", text: "hello" },
      key,
    );
    expect(r.providerId).toBe(smtpMessageId(key, "example.com"));
    expect(capture.messages[0]?.messageId).toBe(
      smtpMessageId(key, "example.com"),
    );
    expect(capture.messages[0]?.to).toEqual(["ana@example.com"]);
    expect(capture.messages[0]?.headers.get("x-sluice-action")).toBe("email");
    await smtp.close();
  });

  it("a wrong password is a CONFIG error naming the server", async () => {
    capture = await startSmtpCapture({
      auth: { user: "promo", pass: "s3cret" },
    });
    const smtp = smtpSender({
      host: capture.host,
      port: capture.port,
      auth: { user: "promo", pass: "wrong" },
      from: "promo@example.com",
    });
    await expect(
      smtp.send({ to: "a@example.com", subject: "x", text: "x" }, key),
    ).rejects.toMatchObject({
      code: "CONFIG",
    });
    await smtp.close();
  });

  it("rejects bad options naming the field", () => {
    expect(() => smtpSender({ host: "h", port: 70000, from: "a@b.c" })).toThrow(
      /smtp.port/,
    );
    expect(() => smtpSender({ host: "h", port: 25, from: "nobody" })).toThrow(
      /smtp.from/,
    );
  });
});
