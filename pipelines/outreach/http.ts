import {
  createServer,
  type IncomingMessage,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";
import { SluiceError } from "../../operators/sluice-error.js";
import type { Secret } from "../../runtime/config.js";

/** Retry policy of an outside call: attempts in all, exponential backoff with full jitter. */
export interface RetryPolicy {
  /** Attempts in all (1 = no retry). */
  readonly attempts: number;
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  attempts: 6,
  initialBackoffMs: 20,
  maxBackoffMs: 1_000,
};

/** An HTTP error answer of an outside service; 5xx, 429 and network errors are retryable. */
export function httpError(
  service: string,
  what: string,
  status: number,
  body: string,
): SluiceError {
  const code =
    status === 429
      ? "RATE_LIMITED"
      : status === 404
        ? "NOT_FOUND"
        : status >= 500
          ? "UNAVAILABLE"
          : status === 401 || status === 403
            ? "CONFIG"
            : "VALIDATE";
  return new SluiceError(
    code,
    `${service} ${what} answered ${status}: ${body.slice(0, 200)}`,
    { retryable: status === 429 || status >= 500 },
  );
}

/**
 * Sends a JSON request with the API key as a bearer token and parses the JSON answer, retrying
 * retryable failures by `retry`. Throws `RETRY_BUDGET_EXHAUSTED` (with the last error as cause)
 * when the attempts run out, or the non-retryable error at once.
 */
export async function callJson<R>(options: {
  readonly service: string;
  readonly method: "GET" | "POST" | "PUT";
  readonly url: string;
  readonly apiKey: Secret;
  readonly body?: unknown;
  readonly retry: RetryPolicy;
  readonly timeoutMs: number;
}): Promise<R> {
  const what = `${options.method} ${new URL(options.url).pathname}`;
  let last: SluiceError | undefined;
  for (let attempt = 1; attempt <= options.retry.attempts; attempt++) {
    try {
      const res = await fetch(options.url, {
        method: options.method,
        headers: {
          authorization: `Bearer ${options.apiKey.reveal()}`,
          ...(options.body === undefined
            ? {}
            : { "content-type": "application/json" }),
        },
        ...(options.body === undefined
          ? {}
          : { body: JSON.stringify(options.body) }),
        signal: AbortSignal.timeout(options.timeoutMs),
      });
      const text = await res.text();
      if (!res.ok) throw httpError(options.service, what, res.status, text);
      return (text === "" ? undefined : JSON.parse(text)) as R;
    } catch (error) {
      const e =
        error instanceof SluiceError
          ? error
          : new SluiceError(
              (error as Error).name === "TimeoutError"
                ? "TIMEOUT"
                : "CONNECTION",
              `${options.service} ${what} failed: ${(error as Error).message}`,
              { retryable: true, cause: error },
            );
      if (!e.retryable) throw e;
      last = e;
      if (attempt < options.retry.attempts) {
        const cap = Math.min(
          options.retry.maxBackoffMs,
          options.retry.initialBackoffMs * 2 ** (attempt - 1),
        );
        await new Promise((r) => setTimeout(r, Math.random() * cap));
      }
    }
  }
  throw new SluiceError(
    "RETRY_BUDGET_EXHAUSTED",
    `${options.service} ${what}: gave up after ${options.retry.attempts} attempts (last: ${last?.message ?? "unknown"})`,
    { cause: last, context: { attempts: options.retry.attempts } },
  );
}

/** A running simulator. */
export interface SimulatorServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  close(): Promise<void>;
}

/** Chaos settings every simulator takes. */
export interface ChaosOptions {
  /** Added to every answer, in ms. Default 0. */
  readonly latencyMs?: number;
  /** Share of calls answered 503 (0…1). Default 0. */
  readonly failureRate?: number;
  /** Random source (seeded in tests). Default `Math.random`. */
  readonly random?: () => number;
}

export type Route = (
  req: IncomingMessage,
  body: unknown,
  url: URL,
) =>
  | Promise<{ status: number; body?: unknown }>
  | { status: number; body?: unknown };

/**
 * Starts a JSON HTTP server on 127.0.0.1 (port 0 = any free one) that checks the bearer key,
 * applies latency and failure rate, then calls `route`. `failureRate` fails a call before the
 * route runs; `onFailureAfter` lets a route decide to fail after it acted (a lost answer).
 */
export async function startJsonServer(options: {
  readonly name: string;
  readonly apiKey: string;
  readonly port?: number;
  readonly chaos?: ChaosOptions;
  readonly route: Route;
}): Promise<SimulatorServer> {
  const latency = options.chaos?.latencyMs ?? 0;
  const failureRate = options.chaos?.failureRate ?? 0;
  const random = options.chaos?.random ?? Math.random;
  const server = createServer((req, res) => {
    void handle(req, res);
  });
  const reply = (res: ServerResponse, status: number, body?: unknown): void => {
    const text = body === undefined ? "" : JSON.stringify(body);
    res.writeHead(status, {
      "content-type": "application/json",
      "content-length": Buffer.byteLength(text),
    });
    res.end(text);
  };
  async function handle(
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    if (latency > 0) await new Promise((r) => setTimeout(r, latency));
    if (req.headers.authorization !== `Bearer ${options.apiKey}`)
      return reply(res, 401, { error: "invalid api key" });
    if (failureRate > 0 && random() < failureRate)
      return reply(res, 503, { error: `${options.name} simulated outage` });
    try {
      const text = Buffer.concat(chunks).toString("utf8");
      const body: unknown = text === "" ? undefined : JSON.parse(text);
      const out = await options.route(
        req,
        body,
        new URL(req.url ?? "/", "http://127.0.0.1"),
      );
      reply(res, out.status, out.body);
    } catch (error) {
      reply(res, 500, { error: (error as Error).message });
    }
  }
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
