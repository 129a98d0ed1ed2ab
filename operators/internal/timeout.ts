import {
  throwError,
  timeout,
  type MonoTypeOperatorFunction,
  type SchedulerLike,
} from "rxjs";
import { SluiceError } from "../sluice-error.js";

/**
 * RxJS `timeout({ first: ms })` on `scheduler` that fails with a retryable `TIMEOUT`
 * {@link SluiceError} saying "`what` took longer than `ms` ms"; `context`, when given, is
 * read as the timeout fires.
 */
export function timeoutAfter<V>(
  ms: number,
  scheduler: SchedulerLike,
  what: string,
  context?: () => SluiceError["context"],
): MonoTypeOperatorFunction<V> {
  return timeout({
    first: ms,
    scheduler,
    with: () =>
      throwError(
        () =>
          new SluiceError(
            "TIMEOUT",
            `${what} took longer than ${ms} ms`,
            context === undefined
              ? { retryable: true }
              : { retryable: true, context: context() },
          ),
      ),
  });
}
