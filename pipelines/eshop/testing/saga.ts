import type { OrderStatus } from "../events.js";
import type { OrderViews } from "../stores.js";

/** Polls `check` until it returns a value other than undefined, or fails naming `what`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last instanceof Error ? `: ${last.message}` : ""}`,
      );
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Waits until the order's view has `status`. */
export function waitForStatus(
  views: OrderViews,
  orderId: number,
  status: OrderStatus,
  timeoutMs?: number,
): Promise<true> {
  return waitFor(
    `order ${orderId} to be ${status}`,
    async () =>
      (await views.get(orderId))?.status === status ? true : undefined,
    timeoutMs,
  );
}
