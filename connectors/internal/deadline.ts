import { SluiceError } from "../../operators/sluice-error.js";

/** How long closing one client (a consumer, a producer, a pool) may take. */
export const CLOSE_DEADLINE_MS = 10_000;

/**
 * Resolves with `work`'s outcome, or rejects with a `TIMEOUT` {@link SluiceError} saying
 * "`what` did not finish within `ms` ms" when it takes longer; the timer never keeps the
 * process alive and `work`'s late rejection is swallowed. For closes that must end (a
 * process that says it stopped must exit).
 *
 * @example
 * ```ts
 * await withinDeadline(consumer.disconnect(), CLOSE_DEADLINE_MS, "kafka consumer disconnect");
 * ```
 * @internal
 */
export async function withinDeadline<T>(
  work: Promise<T>,
  ms: number,
  what: string,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new SluiceError("TIMEOUT", `${what} did not finish within ${ms} ms`, {
            retryable: false,
          }),
        ),
      ms,
    );
    timer.unref();
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
    work.catch(() => undefined);
  }
}
