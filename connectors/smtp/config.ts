import { z } from "zod";
import type { SmtpOptions, SmtpPassword } from "./sender.js";

/**
 * The `smtp` section a job's config shares with every other SMTP job: host, port, TLS, AUTH
 * (user and password together or neither), sender address and Message-ID domain. `password`
 * is the caller's secret schema (the runtime's `secret()`, which connectors cannot import);
 * `extra` adds the job's own keys, such as its concurrency and rate defaults.
 *
 * @example
 * ```ts
 * const smtp = smtpConfigSchema(secret(), {
 *   concurrency: z.number().int().positive().default(4),
 * });
 * const options = smtpSenderOptions(smtp.parse({ host: "smtp.example.com", from: "a@example.com" }));
 * ```
 */
export function smtpConfigSchema<
  P extends SmtpPassword,
  E extends z.ZodRawShape,
>(password: z.ZodType<P, unknown>, extra: E) {
  return z
    .object({
      host: z.string().min(1),
      port: z.number().int().min(1).max(65535).default(587),
      secure: z.boolean().optional(),
      user: z.string().min(1).optional(),
      password: password.optional(),
      from: z.string().min(3),
      messageIdDomain: z.string().min(1).optional(),
      ...extra,
    })
    .strict()
    .refine(
      (s: { user?: unknown; password?: unknown }) =>
        (s.user === undefined) === (s.password === undefined),
      {
        message: "smtp.user and smtp.password go together",
        path: ["password"],
      },
    );
}

/** The parsed keys {@link smtpSenderOptions} reads. */
export interface SmtpConfig {
  readonly host: string;
  readonly port: number;
  readonly secure?: boolean | undefined;
  readonly user?: string | undefined;
  readonly password?: SmtpPassword | undefined;
  readonly from: string;
  readonly messageIdDomain?: string | undefined;
  /** Sends at once; also the transport's pool size. */
  readonly concurrency: number;
}

/**
 * `smtpSender` options from a parsed {@link smtpConfigSchema} section.
 *
 * @example
 * ```ts
 * const smtp = smtpSender(smtpSenderOptions(ctx.config.smtp));
 * ```
 */
export function smtpSenderOptions(c: SmtpConfig): SmtpOptions {
  return {
    host: c.host,
    port: c.port,
    from: c.from,
    maxConnections: c.concurrency,
    ...(c.secure === undefined ? {} : { secure: c.secure }),
    ...(c.user !== undefined && c.password !== undefined
      ? { auth: { user: c.user, pass: c.password } }
      : {}),
    ...(c.messageIdDomain === undefined
      ? {}
      : { messageIdDomain: c.messageIdDomain }),
  };
}
