import {
  SluiceError,
  type ErrorContext,
} from "../../operators/sluice-error.js";
import type { ActionKey } from "./action-log.js";

/** What a provider returned for an accepted send. */
export interface SendResult {
  /** The provider's message id (SMTP Message-ID, WhatsApp `wamid`). */
  readonly providerId?: string;
}

/** What a provider knows about an earlier send with this key. */
export type LookupResult =
  | { readonly found: "sent"; readonly providerId?: string }
  | { readonly found: "not-sent" }
  | { readonly found: "unknown" };

/**
 * One outside provider that delivers messages (SMTP, WhatsApp, an outreach service). A
 * sender throws {@link SluiceError}s: `retryable` when the provider certainly did not take
 * the message (a 4xx reply, a refused connection), not retryable when it refused it for
 * good (5xx), and {@link UnknownOutcomeError} when it cannot tell (a timeout after the
 * message was handed over).
 *
 * @example
 * ```ts
 * const sender: Sender<Email> = { provider: "smtp", idempotentByKey: false, send: (m, key) => smtp.send(m, key) };
 * ```
 */
export interface Sender<M> {
  /** Provider name (action log, dead letters, metrics). */
  readonly provider: string;
  /**
   * True when the provider deduplicates by the idempotency key it is given (an
   * `Idempotency-Key` header), so sending again after an unknown outcome is safe.
   */
  readonly idempotentByKey: boolean;
  send(message: M, key: ActionKey): Promise<SendResult>;
  /** Optional: asks the provider whether the send with this key happened. */
  lookup?(key: ActionKey): Promise<LookupResult>;
}

/**
 * The provider may or may not have delivered the message (a timeout or a dropped connection
 * after the message was handed over). Never retried blindly: the action goes to `unknown`
 * and a dead letter, unless the provider is idempotent by key or can be asked.
 *
 * @example
 * ```ts
 * throw new UnknownOutcomeError("smtp: connection closed after DATA for <abc@sluice.local>");
 * ```
 */
export class UnknownOutcomeError extends SluiceError {
  constructor(
    message: string,
    options: { readonly cause?: unknown; readonly context?: ErrorContext } = {},
  ) {
    super("TIMEOUT", message, { retryable: false, ...options });
  }
}

/**
 * True when `error` or one of its causes is an {@link UnknownOutcomeError} (retry wrappers
 * re-wrap errors, keeping the original as the cause).
 *
 * @example
 * ```ts
 * if (isUnknownOutcome(error)) await log.fail(key, error.message, now, "unknown");
 * ```
 */
export function isUnknownOutcome(error: unknown): boolean {
  for (
    let e: unknown = error, depth = 0;
    e !== undefined && depth < 8;
    depth++
  ) {
    if (e instanceof UnknownOutcomeError) return true;
    e = e instanceof Error ? e.cause : undefined;
  }
  return false;
}
