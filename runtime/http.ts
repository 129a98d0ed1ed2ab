import { createServer } from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { monitorEventLoopDelay } from "node:perf_hooks";
import type { Registry } from "prom-client";

/** What `/readyz` reports. */
export type Readiness =
  { readonly ready: true } | { readonly ready: false; readonly reason: string };

/**
 * An extra GET route (e.g. the embedded dashboard page of `runtime/dashboard-page.ts`):
 * answers and returns true, or returns false so the next route (or the 404) is tried.
 */
export type HttpRoute = (
  path: string,
  req: IncomingMessage,
  res: ServerResponse,
) => Promise<boolean> | boolean;

/** Options of {@link startHttpServer}. */
export interface HttpServerOptions {
  /** 0 picks a free port (tests). */
  readonly port: number;
  /** Default `"0.0.0.0"`. */
  readonly host?: string;
  /** Served at `/metrics`. */
  readonly registry: Registry;
  /** Asked at each `/readyz`. */
  readonly readiness: () => Readiness;
  /** `/healthz` fails when the event loop was blocked longer than this (max delay over the last interval). Default 2 000. */
  readonly maxEventLoopDelayMs?: number;
  /** Extra GET routes, tried in order before the 404. */
  readonly routes?: readonly HttpRoute[];
}

/** A running {@link startHttpServer}. */
export interface HttpServer {
  /** The port bound (useful with port 0). */
  readonly port: number;
  /** Stops accepting, closes idle connections (idempotent). */
  close(): Promise<void>;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}

/**
 * The job's HTTP endpoints, on node:http: `/metrics` (Prometheus text from the registry),
 * `/healthz` (200 while the process runs and its event loop is responsive, 503 when it was
 * blocked past `maxEventLoopDelayMs`) and `/readyz` (200 when ready, 503 with
 * `{"ready":false,"reason":…}` otherwise). Kubernetes probes point at the last two.
 *
 * @example
 * ```ts
 * const http = await startHttpServer({ port: 9464, registry, readiness: () => ({ ready: true }) });
 * // curl localhost:9464/metrics
 * await http.close();
 * ```
 */
export async function startHttpServer(
  options: HttpServerOptions,
): Promise<HttpServer> {
  const maxDelayMs = options.maxEventLoopDelayMs ?? 2_000;
  const delay = monitorEventLoopDelay({ resolution: 20 });
  delay.enable();
  let lastMaxMs = 0;
  const window = setInterval(() => {
    lastMaxMs = delay.max / 1e6;
    delay.reset();
  }, 5_000);
  window.unref();

  const handle = async (
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void> => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET" && req.method !== "HEAD") {
      json(res, 405, { error: "method not allowed" });
      return;
    }
    if (path === "/metrics") {
      const text = await options.registry.metrics();
      res.writeHead(200, { "content-type": options.registry.contentType });
      res.end(text);
    } else if (path === "/healthz") {
      const currentMs = Math.max(lastMaxMs, delay.max / 1e6);
      const eventLoopDelayMs = Math.round(currentMs);
      if (currentMs > maxDelayMs)
        json(res, 503, {
          status: "unhealthy",
          reason: `event loop blocked for ${eventLoopDelayMs} ms (limit ${maxDelayMs} ms)`,
          eventLoopDelayMs,
        });
      else json(res, 200, { status: "ok", eventLoopDelayMs });
    } else if (path === "/readyz") {
      const r = options.readiness();
      json(res, r.ready ? 200 : 503, r);
    } else {
      for (const route of options.routes ?? [])
        if (await route(path ?? "/", req, res)) return;
      json(res, 404, { error: `no route ${path}` });
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent)
        json(res, 500, {
          error: error instanceof Error ? error.message : "internal error",
        });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host ?? "0.0.0.0", () => {
      server.off("error", reject);
      resolve();
    });
  });
  let closing: Promise<void> | undefined;
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        clearInterval(window);
        delay.disable();
        server.close(() => resolve());
        server.closeIdleConnections();
      })),
  };
}
