/**
 * The closed set of reasons a Sluice error can carry. Code that reacts to errors switches on
 * `code`, never on a message or a class name.
 */
export type SluiceErrorCode =
  | "DECODE"
  | "VALIDATE"
  | "PROCESS"
  | "TIMEOUT"
  | "RETRY_BUDGET_EXHAUSTED"
  | "RATE_LIMITED"
  | "BACKPRESSURE"
  | "CONFIG"
  | "CONNECTION"
  | "NOT_FOUND"
  | "CONFLICT"
  | "UNAVAILABLE"
  | "CLOSED"
  | "INTERNAL";

/** Where in a job an error happened; dead letters carry it. */
export type Stage =
  "decode" | "validate" | "process" | "enrich" | "sink" | "commit" | "source";

/** Typed context an error may carry about the record it concerns. */
export interface ErrorContext {
  readonly topic?: string;
  readonly partition?: number;
  readonly offset?: number;
  readonly key?: string;
  readonly stage?: Stage;
  readonly field?: string;
  /** How many times the failing call was tried (set by retryWithBackoff). */
  readonly attempts?: number;
}

/**
 * The one error type of Sluice: a closed `code`, whether retrying may help, the cause and
 * typed context.
 *
 * @example
 * ```ts
 * throw new SluiceError("TIMEOUT", "enrich call took longer than 500 ms", { retryable: true, context: { key } });
 * ```
 */
export class SluiceError extends Error {
  override readonly name = "SluiceError";
  readonly code: SluiceErrorCode;
  readonly retryable: boolean;
  readonly context: ErrorContext;

  constructor(
    code: SluiceErrorCode,
    message: string,
    options: {
      readonly retryable?: boolean;
      readonly cause?: unknown;
      readonly context?: ErrorContext;
    } = {},
  ) {
    super(
      message,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.context = options.context ?? {};
  }
}

/**
 * Wraps anything thrown by user code into a {@link SluiceError}, keeping it as the cause.
 *
 * @example
 * ```ts
 * catch (e) { subscriber.error(toSluiceError(e, "PROCESS", { key })); }
 * ```
 */
export function toSluiceError(
  error: unknown,
  code: SluiceErrorCode = "PROCESS",
  context: ErrorContext = {},
): SluiceError {
  if (error instanceof SluiceError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new SluiceError(code, message, { cause: error, context });
}
