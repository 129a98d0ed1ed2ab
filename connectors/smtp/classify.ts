import { SluiceError } from "../../operators/sluice-error.js";
import { UnknownOutcomeError } from "../fanout/sender.js";

/** The parts of a nodemailer error that decide its fate. */
interface SmtpErrorShape {
  readonly code?: unknown;
  readonly responseCode?: unknown;
  readonly command?: unknown;
  readonly message?: unknown;
}

/**
 * Maps a nodemailer error to a {@link SluiceError}:
 *
 * | what                                              | result                                   |
 * | ------------------------------------------------- | ---------------------------------------- |
 * | reply 4xx (greylisting, mailbox busy, 451)        | `UNAVAILABLE`, retryable                 |
 * | reply 5xx (no such user, rejected)                | `PROCESS`, not retryable                 |
 * | `EAUTH` (535 too), `ENOAUTH`, `ETLS`, `EREQUIRETLS` | `CONFIG`, not retryable (checked first)  |
 * | `EENVELOPE`, `EMESSAGE` without reply             | `VALIDATE`, not retryable                |
 * | `ETIMEDOUT`, or a dropped connection during DATA  | {@link UnknownOutcomeError}              |
 * | other connection errors (refused, DNS, socket)    | `CONNECTION`, retryable                  |
 *
 * @example
 * ```ts
 * catch (e) { throw classifySmtpError(e, "smtp send <abc@sluice.local>"); }
 * ```
 */
export function classifySmtpError(error: unknown, what: string): SluiceError {
  if (error instanceof SluiceError) return error;
  const e = (
    typeof error === "object" && error !== null ? error : {}
  ) as SmtpErrorShape;
  const message = `${what}: ${typeof e.message === "string" ? e.message : String(error)}`;
  const code = typeof e.code === "string" ? e.code : undefined;
  const reply = typeof e.responseCode === "number" ? e.responseCode : undefined;
  if (
    code === "EAUTH" ||
    code === "ENOAUTH" ||
    code === "ETLS" ||
    code === "EREQUIRETLS"
  )
    return new SluiceError("CONFIG", message, {
      retryable: false,
      cause: error,
    });
  if (reply !== undefined && reply >= 400 && reply < 500)
    return new SluiceError("UNAVAILABLE", message, {
      retryable: true,
      cause: error,
    });
  if (reply !== undefined && reply >= 500)
    return new SluiceError("PROCESS", message, {
      retryable: false,
      cause: error,
    });
  if (code === "EENVELOPE" || code === "EMESSAGE")
    return new SluiceError("VALIDATE", message, {
      retryable: false,
      cause: error,
    });
  if (code === "ETIMEDOUT" || e.command === "DATA")
    return new UnknownOutcomeError(message, { cause: error });
  return new SluiceError("CONNECTION", message, {
    retryable: true,
    cause: error,
  });
}
