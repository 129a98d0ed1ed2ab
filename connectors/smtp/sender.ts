import nodemailer from "nodemailer";
import type SMTPPool from "nodemailer/lib/smtp-pool/index.js";
import { SluiceError } from "../../operators/sluice-error.js";
import { keyDigest, type ActionKey } from "../fanout/action-log.js";
import type { LookupResult, Sender } from "../fanout/sender.js";
import { classifySmtpError } from "./classify.js";

/** A password from config: a plain string or a secret whose `reveal()` gives it. */
export type SmtpPassword = string | { reveal(): string };

/**
 * Options of {@link smtpSender}.
 *
 * | option                | default            | meaning                                                        |
 * | --------------------- | ------------------ | -------------------------------------------------------------- |
 * | `host`, `port`        | required           | the SMTP server (submission: 587, implicit TLS: 465)           |
 * | `secure`              | `port === 465`     | TLS from the start; otherwise STARTTLS when offered            |
 * | `auth`                | none               | `{ user, pass }`, `pass` a secret (`{ file }`/`{ env }`)        |
 * | `from`                | required           | default sender address                                         |
 * | `messageIdDomain`     | `sluice.local`     | right side of the derived Message-ID                           |
 * | `maxConnections`      | 4                  | pooled connections (the per-provider concurrency ceiling)      |
 * | `maxMessages`         | 100                | messages per connection before it is recycled                  |
 * | `timeoutMs`           | 30 000             | connection, greeting and socket timeouts                       |
 * | `rejectUnauthorized`  | true               | verify the server's certificate                                |
 * | `lookup`              | none               | asks the provider whether a Message-ID arrived (see fan-out)   |
 */
export interface SmtpOptions {
  readonly host: string;
  readonly port: number;
  readonly secure?: boolean;
  readonly auth?: { readonly user: string; readonly pass: SmtpPassword };
  readonly from: string;
  readonly messageIdDomain?: string;
  readonly maxConnections?: number;
  readonly maxMessages?: number;
  readonly timeoutMs?: number;
  readonly rejectUnauthorized?: boolean;
  readonly lookup?: (messageId: string) => Promise<LookupResult>;
}

/** An email to send. */
export interface EmailMessage {
  readonly to: string;
  readonly subject: string;
  readonly text?: string;
  readonly html?: string;
  /** Overrides the sender's default `from`. */
  readonly from?: string;
  readonly headers?: { readonly [name: string]: string };
}

/** A pooled SMTP {@link Sender}; close it at shutdown. */
export interface SmtpSender extends Sender<EmailMessage> {
  /** The Message-ID a key's email carries: `<digest@domain>`. */
  messageIdOf(key: ActionKey): string;
  /** Opens a connection and says hello (start-up check). */
  verify(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The Message-ID of an action's email, derived from its idempotency key, so a duplicate
 * delivery is recognisable at the receiver and a lookup can find the send.
 *
 * @example
 * ```ts
 * smtpMessageId(key, "promo.example.com"); // "<3f2a…@promo.example.com>"
 * ```
 */
export function smtpMessageId(key: ActionKey, domain = "sluice.local"): string {
  return `<${keyDigest(key)}@${domain}>`;
}

function check(options: SmtpOptions): void {
  const bad = (field: string, rule: string): never => {
    throw new SluiceError("CONFIG", `smtp.${field} ${rule}`);
  };
  if (options.host.trim() === "") bad("host", "must not be empty");
  if (
    !Number.isInteger(options.port) ||
    options.port < 1 ||
    options.port > 65535
  )
    bad("port", `must be an integer in 1..65535 (got ${options.port})`);
  if (!/^[^@\s]+@[^@\s]+$/.test(options.from.replace(/^.*<(.*)>$/, "$1")))
    bad(
      "from",
      `must be an email address (got ${JSON.stringify(options.from)})`,
    );
  for (const f of ["maxConnections", "maxMessages", "timeoutMs"] as const) {
    const v = options[f];
    if (v !== undefined && (!Number.isInteger(v) || v < 1))
      bad(f, "must be a positive integer");
  }
}

/**
 * Sends email over a pooled SMTP transport (nodemailer). The Message-ID comes from the
 * action key ({@link smtpMessageId}); errors are classified by {@link classifySmtpError}
 * (4xx retryable, 5xx not, a timeout after the message was handed over an unknown outcome).
 * SMTP has no idempotency key, so `idempotentByKey` is false; give `lookup` when the provider
 * can be asked about a Message-ID (a provider API, a mailbox search).
 *
 * @example
 * ```ts
 * const smtp = smtpSender({ host: "smtp.example.com", port: 587, auth: { user: "promo", pass: config.smtpPassword },
 *   from: "Promo <promo@example.com>" });
 * await smtp.send({ to: "ana@example.com", subject: "Happy birthday", text: "…" }, key);
 * ```
 */
export function smtpSender(options: SmtpOptions): SmtpSender {
  check(options);
  const domain = options.messageIdDomain ?? "sluice.local";
  const timeout = options.timeoutMs ?? 30_000;
  const pass = options.auth?.pass;
  const transportOptions: SMTPPool.Options = {
    pool: true,
    host: options.host,
    port: options.port,
    secure: options.secure ?? options.port === 465,
    maxConnections: options.maxConnections ?? 4,
    maxMessages: options.maxMessages ?? 100,
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: timeout,
    tls: { rejectUnauthorized: options.rejectUnauthorized ?? true },
    ...(options.auth !== undefined
      ? {
          auth: {
            user: options.auth.user,
            pass: typeof pass === "string" ? pass : (pass?.reveal() ?? ""),
          },
        }
      : {}),
  };
  const transport = nodemailer.createTransport(transportOptions);
  let closed = false;
  const messageIdOf = (key: ActionKey): string => smtpMessageId(key, domain);
  const sender: SmtpSender = {
    provider: "smtp",
    idempotentByKey: false,
    messageIdOf,
    async send(message, key) {
      if (closed) throw new SluiceError("CLOSED", "smtp sender is closed");
      const messageId = messageIdOf(key);
      try {
        const info = await transport.sendMail({
          from: message.from ?? options.from,
          to: message.to,
          subject: message.subject,
          messageId,
          ...(message.text !== undefined ? { text: message.text } : {}),
          ...(message.html !== undefined ? { html: message.html } : {}),
          headers: { ...message.headers, "X-Sluice-Action": `${key.action}` },
        });
        return { providerId: info.messageId };
      } catch (error) {
        throw classifySmtpError(
          error,
          `smtp send ${messageId} to ${options.host}:${options.port}`,
        );
      }
    },
    async verify() {
      try {
        await transport.verify();
      } catch (error) {
        throw classifySmtpError(
          error,
          `smtp verify ${options.host}:${options.port}`,
        );
      }
    },
    close() {
      if (!closed) {
        closed = true;
        transport.close();
      }
      return Promise.resolve();
    },
  };
  const lookup = options.lookup;
  if (lookup !== undefined)
    return Object.assign(sender, {
      lookup: (key: ActionKey) => lookup(messageIdOf(key)),
    });
  return sender;
}
