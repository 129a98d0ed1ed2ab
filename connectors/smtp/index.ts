// Public exports of the SMTP connector, listed one by one (STYLE.md habit 8).
/**
 * `connectors/smtp`: email over a pooled SMTP transport (nodemailer), as a fan-out `Sender`.
 * The capture server for tests is in `connectors/smtp/testing/smtp-capture.ts`.
 *
 * @example
 * ```ts
 * import { smtpSender } from "../connectors/smtp/index.js";
 * const smtp = smtpSender({ host: "127.0.0.1", port: 2525, from: "promo@example.com" });
 * deliveries$.pipe(deliverOnce({ log, sender: smtp, deadLetters }));
 * ```
 */
export { smtpMessageId, smtpSender } from "./sender.js";
export type {
  EmailMessage,
  SmtpOptions,
  SmtpPassword,
  SmtpSender,
} from "./sender.js";
export { classifySmtpError } from "./classify.js";
export { smtpConfigSchema, smtpSenderOptions } from "./config.js";
export type { SmtpConfig } from "./config.js";
