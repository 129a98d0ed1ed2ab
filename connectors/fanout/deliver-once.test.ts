import { afterEach, describe, expect, it } from "vitest";
import { SluiceError } from "../../operators/sluice-error.js";
import type { EmailMessage } from "../smtp/sender.js";
import { smtpSender } from "../smtp/sender.js";
import {
  startSmtpCapture,
  type SmtpCapture,
} from "../smtp/testing/smtp-capture.js";
import { memoryActionLog } from "./action-log.js";
import type { Sender } from "./sender.js";
import { UnknownOutcomeError } from "./sender.js";
import { deliverAll, testKey as key } from "./testing/deliveries.js";

let capture: SmtpCapture | undefined;
afterEach(async () => {
  await capture?.close();
  capture = undefined;
});

describe("deliverOnce", () => {
  it("sends each delivery once over SMTP and a second run sends nothing", async () => {
    capture = await startSmtpCapture();
    const smtp = smtpSender({
      host: capture.host,
      port: capture.port,
      from: "promo@example.com",
    });
    const log = memoryActionLog();
    const dead: unknown[] = [];
    const run = async () => {
      const r = await deliverAll(5, { log, sender: smtp, concurrency: 2 });
      dead.push(...r.dead);
      return r.reports;
    };
    const first = await run();
    expect(first.map((r) => r.value.outcome)).toEqual(Array(5).fill("sent"));
    const second = await run();
    expect(second.map((r) => r.value.outcome)).toEqual(
      Array(5).fill("already-sent"),
    );
    expect(capture.messages).toHaveLength(5);
    expect([...capture.countByMessageId().values()]).toEqual([1, 1, 1, 1, 1]);
    expect(dead).toEqual([]);
    await smtp.close();
  });

  it("retries 4xx replies and dead-letters 5xx replies with the reason", async () => {
    capture = await startSmtpCapture({ failure: { rate: 1, code: 550 } });
    const smtp = smtpSender({
      host: capture.host,
      port: capture.port,
      from: "promo@example.com",
    });
    const log = memoryActionLog();
    const { reports: out, dead } = await deliverAll(2, {
      log,
      sender: smtp,
      retry: { baseDelayMs: 1 },
    });
    expect(out).toEqual([]);
    expect(dead.map((d) => d.reason.code)).toEqual(["PROCESS", "PROCESS"]);
    expect(dead[0]!.reason.message).toMatch(/550/);
    expect((await log.get(key(0)))?.state).toBe("failed");
    await smtp.close();
  });

  it("dead-letters an unconfirmed earlier attempt it cannot resolve, and never sends it again", async () => {
    const log = memoryActionLog();
    await log.plan(key(0), "fake", 0);
    await log.attempt(key(0), 0, 10); // a crash after this: never confirmed
    let sends = 0;
    const sender: Sender<EmailMessage> = {
      provider: "fake",
      idempotentByKey: false,
      send: () => {
        sends += 1;
        return Promise.resolve({});
      },
    };
    const { dead } = await deliverAll(1, { log, sender });
    expect(sends).toBe(0);
    expect(dead[0]?.reason.message).toMatch(/never confirmed/);
    expect((await log.get(key(0)))?.state).toBe("unknown");
  });

  it("records a timeout after hand-over as unknown, not as a retry", async () => {
    const log = memoryActionLog();
    let sends = 0;
    const sender: Sender<EmailMessage> = {
      provider: "fake",
      idempotentByKey: false,
      send: () => {
        sends += 1;
        return Promise.reject(new UnknownOutcomeError("timed out after DATA"));
      },
    };
    const { dead } = await deliverAll(1, {
      log,
      sender,
      retry: { maxAttempts: 5, baseDelayMs: 1 },
    });
    expect(sends).toBe(1);
    expect((await log.get(key(0)))?.state).toBe("unknown");
    expect(dead).toHaveLength(1);
  });

  it("resends an unconfirmed attempt to a provider that is idempotent by key", async () => {
    const log = memoryActionLog();
    await log.plan(key(0), "idem", 0);
    await log.attempt(key(0), 0, 10);
    const seen: string[] = [];
    const sender: Sender<EmailMessage> = {
      provider: "idem",
      idempotentByKey: true,
      send: (_m, k) => {
        seen.push(k.recipient);
        return Promise.resolve({ providerId: "p-1" });
      },
    };
    const { reports: out } = await deliverAll(1, { log, sender });
    expect(seen).toEqual(["u-0"]);
    expect(out[0]?.value.outcome).toBe("sent");
  });

  it("gives a retryable failure more attempts and then succeeds", async () => {
    const log = memoryActionLog();
    let calls = 0;
    const sender: Sender<EmailMessage> = {
      provider: "flaky",
      idempotentByKey: false,
      send: () => {
        calls += 1;
        return calls < 3
          ? Promise.reject(
              new SluiceError("UNAVAILABLE", "451 try later", {
                retryable: true,
              }),
            )
          : Promise.resolve({ providerId: "ok" });
      },
    };
    const { reports: out } = await deliverAll(1, {
      log,
      sender,
      retry: { maxAttempts: 5, baseDelayMs: 1 },
    });
    expect(calls).toBe(3);
    expect(out[0]?.value.outcome).toBe("sent");
    expect((await log.get(key(0)))?.attempts).toBe(1);
  });

  it("waits for another attempt's live lease to end, then resolves it instead of skipping", async () => {
    const log = memoryActionLog();
    await log.plan(key(0), "fake", Date.now());
    await log.attempt(key(0), Date.now(), 30); // a crashed run's lease, ending in 30 ms
    let sends = 0;
    const sender: Sender<EmailMessage> = {
      provider: "fake",
      idempotentByKey: false,
      send: () => {
        sends += 1;
        return Promise.resolve({});
      },
      lookup: () => Promise.resolve({ found: "not-sent" }),
    };
    const { reports: out } = await deliverAll(1, { log, sender });
    expect(out.map((r) => r.value.outcome)).toEqual(["sent"]);
    expect(sends).toBe(1);
    expect((await log.get(key(0)))?.attempts).toBe(2);
  });
});
