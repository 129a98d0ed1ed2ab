import { createServer, type RequestListener } from "node:http";
import type { AddressInfo } from "node:net";

/** A started {@link startLocalHttpServer}. */
export interface LocalHttpServer {
  /** `http://127.0.0.1:<port>`. */
  readonly baseUrl: string;
  readonly port: number;
  /** Drops open (keep-alive) connections and stops listening. */
  close(): Promise<void>;
}

/**
 * An HTTP server on 127.0.0.1 and a free port, for the local simulators of outside APIs:
 * started, with its address, and a close that does not wait for idle keep-alive clients.
 *
 * @example
 * ```ts
 * const { baseUrl, close } = await startLocalHttpServer((req, res) => res.end("ok"));
 * ```
 */
export async function startLocalHttpServer(
  handler: RequestListener,
): Promise<LocalHttpServer> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((e) => (e === undefined ? resolve() : reject(e)));
      }),
  };
}
