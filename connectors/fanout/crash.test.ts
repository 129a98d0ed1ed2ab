import { from, type Subscription } from "rxjs";
import { afterEach, describe, expect, it } from "vitest";
import { smtpSender, type EmailMessage } from "../smtp/sender.js";
import {
  startSmtpCapture,
  type SmtpCapture,
} from "../smtp/testing/smtp-capture.js";
import { memoryActionLog, type ActionLog } from "./action-log.js";
import { collectDeadLetters } from "./dead-letters.js";
import { deliverOnce, type Delivery } from "./deliver-once.js";
import type { Sender } from "./sender.js";
import { crashableLog, crashingSender, crashSwitch } from "./testing/crash.js";
import {
  deliverAll,
  emailDeliveries,
  TEST_FIRING,
} from "./testing/deliveries.js";

const N = 30;

let capture: SmtpCapture | undefined;
afterEach(async () => {
  await capture?.close();
  capture = undefined;
});

/** First run: crashes after `afterSends` sends succeeded, with `concurrency` sends in flight. */
async function crashedRun(
  log: ActionLog,
  sender: Sender<EmailMessage>,
  afterSends: number,
): Promise<void> {
  const crash = crashSwitch();
  const dead = collectDeadLetters<Delivery<EmailMessage>>();
  let sub: Subscription | undefined;
  await new Promise<void>((resolve) => {
    sub = from(emailDeliveries(N))
      .pipe(
        deliverOnce({
          log: crashableLog(log, crash),
          sender: crashingSender(sender, crash, afterSends),
          deadLetters: dead.sink,
          concurrency: 4,
          leaseMs: 1,
        }),
      )
      .subscribe();
    const poll = setInterval(() => {
      if (crash.crashed) {
        clearInterval(poll);
        resolve();
      }
    }, 1);
  });
  await new Promise((r) => setTimeout(r, 50)); // in-flight sends reach the server
  sub?.unsubscribe(); // the process is gone
  expect(dead.letters).toEqual([]);
}

describe("a crash in the middle of a send batch", () => {
  it("with a provider lookup: the rerun confirms what arrived and sends the rest; every recipient gets exactly one email", async () => {
    capture = await startSmtpCapture();
    const smtp = smtpSender({
      host: capture.host,
      port: capture.port,
      from: "promo@example.com",
      lookup: capture.lookup,
    });
    const log = memoryActionLog();
    await crashedRun(log, smtp, 10);
    const before = capture.messages.length;
    expect(before).toBeGreaterThanOrEqual(10);
    expect(before).toBeLessThan(N);
    const states = (await log.listFiring(TEST_FIRING)).map((e) => e.state);
    expect(states.filter((s) => s === "sending").length).toBeGreaterThan(0); // planned, sent, never confirmed

    const { reports, dead } = await deliverAll(N, {
      log,
      sender: smtp,
      concurrency: 4,
    });
    const outcomes = reports.map((r) => r.value.outcome);
    expect(
      outcomes.filter((o) => o === "confirmed-by-lookup").length,
    ).toBeGreaterThan(0);
    expect(outcomes.length).toBe(N);
    expect(dead).toEqual([]);
    const perRecipient = capture.countByRecipient();
    expect(perRecipient.size).toBe(N);
    expect([...perRecipient.values()].every((n) => n === 1)).toBe(true);
    expect(
      (await log.listFiring(TEST_FIRING)).every((e) => e.state === "sent"),
    ).toBe(true);
    await smtp.close();
  });

  it("without a lookup: unconfirmed sends are dead-lettered as unknown, never sent twice, the rest delivered", async () => {
    capture = await startSmtpCapture();
    const smtp = smtpSender({
      host: capture.host,
      port: capture.port,
      from: "promo@example.com",
    });
    const log = memoryActionLog();
    await crashedRun(log, smtp, 10);

    const { reports, dead } = await deliverAll(N, {
      log,
      sender: smtp,
      concurrency: 4,
    });
    const perRecipient = capture.countByRecipient();
    expect([...perRecipient.values()].every((n) => n === 1)).toBe(true);
    expect(dead.length).toBeGreaterThan(0);
    expect(dead.every((d) => /never confirmed/.test(d.reason.message))).toBe(
      true,
    );
    // every recipient is accounted for: delivered (now or before) or dead-lettered with a reason
    expect(reports.length + dead.length).toBe(N);
    const rows = await log.listFiring(TEST_FIRING);
    expect(rows.filter((e) => e.state === "unknown").length).toBe(dead.length);
    expect(rows.filter((e) => e.state === "sent").length).toBe(reports.length);
    await smtp.close();
  });
});
