import { SluiceError } from "../../operators/sluice-error.js";
import type {
  ErrorContext,
  SluiceErrorCode,
} from "../../operators/sluice-error.js";

/** What a driver error means to Sluice. */
export interface Classification {
  readonly code: SluiceErrorCode;
  readonly retryable: boolean;
}

/**
 * A {@link Classification}, for the connectors' tables of driver codes.
 * @internal
 */
export const classification = (
  code: SluiceErrorCode,
  retryable: boolean,
): Classification => ({
  code,
  retryable,
});

/**
 * Wraps a driver error into a {@link SluiceError} classified by `classify`, with the
 * message `<message>: <the error's message>` and the error kept as the cause. A
 * SluiceError is returned as it is.
 * @internal
 */
export function classifiedError(
  error: unknown,
  classify: (error: unknown) => Classification,
  message: string,
  context: ErrorContext,
): SluiceError {
  if (error instanceof SluiceError) return error;
  const { code, retryable } = classify(error);
  const detail = error instanceof Error ? error.message : String(error);
  return new SluiceError(code, `${message}: ${detail}`, {
    retryable,
    cause: error,
    context,
  });
}
