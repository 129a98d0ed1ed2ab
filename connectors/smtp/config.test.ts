import { describe, expect, it } from "vitest";
import { z } from "zod";
import { smtpConfigSchema, smtpSenderOptions } from "./config.js";

const schema = smtpConfigSchema(z.string().min(1), {
  concurrency: z.number().int().positive().default(3),
});

describe("smtpConfigSchema / smtpSenderOptions", () => {
  it("applies the shared defaults and the caller's extra keys", () => {
    const c = schema.parse({ host: "smtp.example.com", from: "a@example.com" });
    expect(c).toEqual({
      host: "smtp.example.com",
      port: 587,
      from: "a@example.com",
      concurrency: 3,
    });
    expect(smtpSenderOptions(c)).toEqual({
      host: "smtp.example.com",
      port: 587,
      from: "a@example.com",
      maxConnections: 3,
    });
  });

  it("rejects a user without a password, and unknown keys", () => {
    const noPass = schema.safeParse({ host: "h", from: "a@b", user: "u" });
    expect(noPass.success).toBe(false);
    expect(noPass.error?.issues[0]?.message).toBe(
      "smtp.user and smtp.password go together",
    );
    expect(
      schema.safeParse({ host: "h", from: "a@b", hots: "typo" }).success,
    ).toBe(false);
  });

  it("passes AUTH, TLS and the Message-ID domain through", () => {
    const c = schema.parse({
      host: "h",
      port: 465,
      secure: true,
      user: "u",
      password: "p",
      from: "a@b",
      messageIdDomain: "mail.example.com",
    });
    expect(smtpSenderOptions(c)).toEqual({
      host: "h",
      port: 465,
      secure: true,
      auth: { user: "u", pass: "p" },
      from: "a@b",
      messageIdDomain: "mail.example.com",
      maxConnections: 3,
    });
  });
});
