// Small HTTP helpers the calendar and enrichment clients share: one JSON call with a timeout,
// errors that carry the HTTP status, and retries with exponential backoff for the ones that
// may pass on a second try (429, 5xx, timeouts, refused connections).
import {
  SluiceError,
  type SluiceErrorCode,
} from "../../operators/sluice-error.js";

/** The `fetch` the clients call (the global one by default; tests may wrap it). */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

/** An outside API answered with an error status (or did not answer). */
export class HttpApiError extends SluiceError {
  /** HTTP status, or 0 when there was no answer (timeout, connection refused). */
  readonly status: number;
  /** The API's own reason (Google's `errors[0].reason`, OAuth's `error`), when it gave one. */
  readonly reason: string | undefined;
  constructor(
    api: string,
    status: number,
    reason: string | undefined,
    message: string,
    options: { readonly cause?: unknown } = {},
  ) {
    const code = codeFor(status);
    super(code, `${api}: ${message}`, {
      retryable: status === 0 || status === 429 || status >= 500,
      ...(options.cause === undefined ? {} : { cause: options.cause }),
    });
    this.status = status;
    this.reason = reason;
  }
}

function codeFor(status: number): SluiceErrorCode {
  if (status === 0) return "CONNECTION";
  if (status === 401 || status === 403) return "CONFIG";
  if (status === 404) return "NOT_FOUND";
  if (status === 409 || status === 410) return "CONFLICT";
  if (status === 429) return "RATE_LIMITED";
  if (status >= 500) return "UNAVAILABLE";
  return "VALIDATE";
}

/** One JSON request; non-2xx statuses are returned, not thrown (the caller knows the API). */
export async function callJson(
  fetchFn: FetchLike,
  api: string,
  url: string,
  init: RequestInit,
  timeoutMs: number,
): Promise<{ readonly status: number; readonly body: unknown }> {
  let res: Response;
  try {
    res = await fetchFn(url, {
      ...init,
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    const timedOut =
      error instanceof Error &&
      (error.name === "TimeoutError" || error.name === "AbortError");
    throw new HttpApiError(
      api,
      0,
      undefined,
      timedOut
        ? `no answer within ${timeoutMs} ms`
        : `request failed (${error instanceof Error ? error.message : String(error)})`,
      { cause: error },
    );
  }
  const text = await res.text();
  let body: unknown = undefined;
  if (text !== "")
    try {
      body = JSON.parse(text) as unknown;
    } catch {
      body = text;
    }
  return { status: res.status, body };
}

/** Options of {@link withRetries}. */
export interface RetryOptions {
  /** Attempts in all, the first included. */
  readonly maxAttempts: number;
  /** Delay before the second attempt; doubles each time, with full jitter. */
  readonly baseDelayMs: number;
  /** Upper bound of one delay. */
  readonly maxDelayMs: number;
  /** How to wait (injected so tests and the demo need not sleep). */
  readonly sleep: (ms: number) => Promise<void>;
  /** Jitter source in [0, 1). */
  readonly random: () => number;
}

/** Default sleep: a real timer. */
export const realSleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs `fn` until it resolves, retrying errors marked `retryable` up to `maxAttempts`; the
 * last error is rethrown with the attempt count in its message.
 *
 * @example
 * ```ts
 * const page = await withRetries(() => client.listPage(q), { maxAttempts: 5, baseDelayMs: 200, maxDelayMs: 5_000, sleep: realSleep, random: Math.random });
 * ```
 */
export async function withRetries<R>(
  fn: () => Promise<R>,
  o: RetryOptions,
): Promise<R> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      const retryable = error instanceof SluiceError && error.retryable;
      if (!retryable || attempt >= o.maxAttempts) {
        if (retryable && error instanceof SluiceError)
          throw new SluiceError(
            "RETRY_BUDGET_EXHAUSTED",
            `${error.message} (gave up after ${attempt} attempts)`,
            {
              cause: error,
              context: { attempts: attempt },
            },
          );
        throw error;
      }
      const cap = Math.min(o.maxDelayMs, o.baseDelayMs * 2 ** (attempt - 1));
      await o.sleep(Math.floor(o.random() * cap));
    }
  }
}

/** The retry policy both clients start from: `{ maxAttempts: 5, baseDelayMs: 200, maxDelayMs: 5 000 }`, overridable. */
export function retryOptions(overrides?: Partial<RetryOptions>): RetryOptions {
  return {
    maxAttempts: 5,
    baseDelayMs: 200,
    maxDelayMs: 5_000,
    sleep: realSleep,
    random: Math.random,
    ...overrides,
  };
}

/** How one outside API is called: transport, limits, and how to read its error bodies. */
export interface JsonApi {
  readonly fetch: FetchLike;
  readonly timeoutMs: number;
  readonly retry: RetryOptions;
  /** The API's own reason and message from an error body. */
  readonly errorOf: (body: unknown) => {
    readonly reason: string | undefined;
    readonly message: string;
  };
}

/**
 * One JSON call retried with backoff while the API answers 429 or 5xx (or not at all).
 * `retryAlso` may throw a retryable error for other answers (a 202 "queued", say). Any status
 * outside `accept` then becomes an {@link HttpApiError} carrying the API's reason.
 */
export async function callJsonRetrying(
  api: JsonApi,
  name: string,
  url: string,
  init: RequestInit,
  options: {
    readonly accept?: readonly number[];
    readonly retryAlso?: (status: number) => void;
  } = {},
): Promise<{ readonly status: number; readonly body: unknown }> {
  const failed = (status: number, body: unknown): HttpApiError => {
    const e = api.errorOf(body);
    return new HttpApiError(name, status, e.reason, `${status} ${e.message}`);
  };
  const r = await withRetries(async () => {
    const r = await callJson(api.fetch, name, url, init, api.timeoutMs);
    options.retryAlso?.(r.status);
    if (r.status === 429 || r.status >= 500) throw failed(r.status, r.body);
    return r;
  }, api.retry);
  if (!(options.accept ?? [200]).includes(r.status))
    throw failed(r.status, r.body);
  return r;
}
