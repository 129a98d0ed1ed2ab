import { setTimeout as sleep } from "node:timers/promises";

/**
 * Polls `condition` until it returns a value other than undefined, or throws after `timeoutMs`
 * naming `what`. For integration tests: wait for a condition instead of sleeping.
 *
 * @example
 * const row = await waitFor("the row to expire", async () => ((await get()) === null ? true : undefined));
 */
export async function waitFor<T>(
  what: string,
  condition: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 30_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await condition();
      if (value !== undefined) return value;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() >= deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`, {
        cause: lastError,
      });
    }
    await sleep(intervalMs);
  }
}

/** A name unique to this run, safe for topics, keyspaces and tables (lowercase, [a-z0-9_]). */
export function uniqueName(prefix: string): string {
  const rand = Math.random().toString(36).slice(2, 8);
  return `${prefix}_${Date.now().toString(36)}_${rand}`;
}
