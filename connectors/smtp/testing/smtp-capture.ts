import type { AddressInfo } from "node:net";
import {
  SMTPServer,
  type SMTPServerDataStream,
  type SMTPServerSession,
} from "smtp-server";
import type { LookupResult } from "../../fanout/sender.js";
import { seededRandom } from "../../../operators/internal/random.js";

/** One message the capture server accepted. */
export interface CapturedMessage {
  /** The Message-ID header, with its angle brackets. */
  readonly messageId: string | undefined;
  readonly subject: string | undefined;
  readonly from: string;
  /** Envelope recipients (RCPT TO). */
  readonly to: readonly string[];
  /** Every header, lower-case names, unfolded; the last value of a repeated header. */
  readonly headers: ReadonlyMap<string, string>;
  /** The body after the header block (MIME as sent). */
  readonly body: string;
  readonly raw: string;
}

/** How the capture server refuses messages. */
export interface SmtpFailure {
  /** Fraction of messages refused at the end of DATA, 0..1. Default 0. */
  readonly rate: number;
  /** The reply code: 4xx (try later) or 5xx (refused). Default 451. */
  readonly code?: number;
}

/** Options of {@link startSmtpCapture}. */
export interface SmtpCaptureOptions {
  /** Default `{ rate: 0 }`. */
  readonly failure?: SmtpFailure;
  /** Seed of the failure draws, so runs repeat. Default 1. */
  readonly seed?: number;
  /** Accept AUTH with these credentials (anything else gets 535). Default: no AUTH needed. */
  readonly auth?: { readonly user: string; readonly pass: string };
}

/** A running capture server. */
export interface SmtpCapture {
  readonly host: string;
  readonly port: number;
  /** Accepted messages, in arrival order. */
  readonly messages: readonly CapturedMessage[];
  /** Messages refused by the failure injection. */
  readonly refused: number;
  /** Accepted messages per Message-ID (2 or more = a duplicate send). */
  countByMessageId(): ReadonlyMap<string, number>;
  /** Accepted messages per envelope recipient. */
  countByRecipient(): ReadonlyMap<string, number>;
  /** For `smtpSender({ lookup })`: did a message with this Message-ID arrive? */
  lookup(messageId: string): Promise<LookupResult>;
  /** Changes the failure injection from now on. */
  setFailure(failure: SmtpFailure): void;
  /** Resolves once `count` messages have been accepted. */
  waitFor(count: number): Promise<void>;
  close(): Promise<void>;
}

function parse(raw: string, session: SMTPServerSession): CapturedMessage {
  const split = raw.search(/\r?\n\r?\n/);
  const head = split < 0 ? raw : raw.slice(0, split);
  const body = split < 0 ? "" : raw.slice(split).replace(/^\r?\n\r?\n/, "");
  const headers = new Map<string, string>();
  for (const line of head.replace(/\r?\n[ \t]+/g, " ").split(/\r?\n/)) {
    const i = line.indexOf(":");
    if (i > 0)
      headers.set(
        line.slice(0, i).trim().toLowerCase(),
        line.slice(i + 1).trim(),
      );
  }
  const mailFrom = session.envelope.mailFrom;
  return {
    messageId: headers.get("message-id"),
    subject: headers.get("subject"),
    from: mailFrom === false ? "" : mailFrom.address,
    to: session.envelope.rcptTo.map((r) => r.address),
    headers,
    body,
    raw,
  };
}

/**
 * An in-process SMTP server (smtp-server) on 127.0.0.1, port 0, that keeps what it
 * receives: the real SMTP peer of the pipelines' tests and the embedded demo. It can refuse
 * a seeded fraction of messages with a 4xx or 5xx reply at the end of DATA.
 *
 * @example
 * ```ts
 * const capture = await startSmtpCapture({ failure: { rate: 0.2, code: 451 } });
 * const smtp = smtpSender({ host: capture.host, port: capture.port, from: "promo@example.com", lookup: capture.lookup });
 * // … send …
 * expect([...capture.countByMessageId().values()].every((n) => n === 1)).toBe(true);
 * await capture.close();
 * ```
 */
export async function startSmtpCapture(
  options: SmtpCaptureOptions = {},
): Promise<SmtpCapture> {
  const messages: CapturedMessage[] = [];
  let failure: SmtpFailure = options.failure ?? { rate: 0 };
  const random = seededRandom(options.seed ?? 1);
  let refused = 0;
  const waiters: { count: number; resolve: () => void }[] = [];
  const auth = options.auth;
  const server = new SMTPServer({
    secure: false,
    disabledCommands: auth === undefined ? ["STARTTLS", "AUTH"] : ["STARTTLS"],
    authOptional: auth === undefined,
    allowInsecureAuth: true,
    logger: false,
    onAuth(a, _session, callback) {
      if (
        auth !== undefined &&
        a.username === auth.user &&
        a.password === auth.pass
      )
        callback(null, { user: a.username });
      else
        callback(
          Object.assign(new Error("535 authentication failed"), {
            responseCode: 535,
          }),
        );
    },
    onData(stream: SMTPServerDataStream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        if (failure.rate > 0 && random() < failure.rate) {
          refused += 1;
          const code = failure.code ?? 451;
          callback(
            Object.assign(
              new Error(`${code} injected failure (smtp-capture)`),
              {
                responseCode: code,
              },
            ),
          );
          return;
        }
        messages.push(parse(Buffer.concat(chunks).toString("utf8"), session));
        for (const w of waiters.filter((x) => messages.length >= x.count)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve();
        }
        callback(null);
      });
    },
  });
  server.on("error", () => undefined);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.server.address() as AddressInfo;
  const count = (
    f: (m: CapturedMessage) => readonly string[],
  ): Map<string, number> => {
    const out = new Map<string, number>();
    for (const m of messages)
      for (const k of f(m)) out.set(k, (out.get(k) ?? 0) + 1);
    return out;
  };
  return {
    host: "127.0.0.1",
    port: address.port,
    messages,
    get refused() {
      return refused;
    },
    countByMessageId: () =>
      count((m) => (m.messageId === undefined ? [] : [m.messageId])),
    countByRecipient: () => count((m) => m.to),
    lookup: (messageId) =>
      Promise.resolve(
        messages.some((m) => m.messageId === messageId)
          ? { found: "sent", providerId: messageId }
          : { found: "not-sent" },
      ),
    setFailure(f) {
      failure = f;
    },
    waitFor(n) {
      if (messages.length >= n) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ count: n, resolve }));
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
