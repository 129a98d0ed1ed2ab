/**
 * Avro RPC over avsc 5.7.9's `Service`: request/response services over TCP (stateful: one
 * long-lived connection, Netty framing) and HTTP (stateless: one POST per call), with
 * promise-based typed calls, per-call timeouts, declared errors as typed results and
 * everything else as `SluiceError`.
 */
import { once } from "node:events";
import { existsSync, readFileSync } from "node:fs";
import http from "node:http";
import { Writable } from "node:stream";
import net from "node:net";
import { join } from "node:path";
import avsc from "avsc";
import { SluiceError } from "./internal/sluice-error.js";
import { avroParseOptions } from "./logical-types.js";
import { avroAssetDir } from "./schema-store.js";

/**
 * One message of a protocol, for typing: its request record, response, and declared errors
 * by short name.
 *
 * @example
 * ```ts
 * type GetMovie = RpcMethod<{ movieId: number }, Movie, { MovieNotFound: { movieId: number } }>;
 * ```
 */
export interface RpcMethod<
  Req extends object,
  Res,
  Errs extends object = Record<never, never>,
> {
  readonly request: Req;
  readonly response: Res;
  readonly errors: Errs;
}

/**
 * A protocol's messages by name, for typing clients and handlers.
 *
 * @example
 * ```ts
 * type MovieMethods = {
 *   getMovie: RpcMethod<{ movieId: number }, Movie, { MovieNotFound: { movieId: number } }>;
 *   getMovies: RpcMethod<{ movieIds: number[] }, Movie[]>;
 * };
 * ```
 */
export type RpcMethods = {
  readonly [name: string]: RpcMethod<object, unknown, object>;
};

/**
 * A declared error as a client sees it: the error's short name and its record.
 *
 * @example
 * ```ts
 * if (!result.ok && result.error.name === "MovieNotFound") console.log(result.error.value.movieId);
 * ```
 */
export type DeclaredError<Errs extends object> = {
  [K in keyof Errs & string]: { readonly name: K; readonly value: Errs[K] };
}[keyof Errs & string];

/**
 * The outcome of a call: the response, or a declared error. Undeclared failures (server
 * crash, timeout, connection) reject with a `SluiceError` instead.
 *
 * @example
 * ```ts
 * const result: RpcResult<MovieMethods["getMovie"]> = await client.call("getMovie", { movieId: 603 });
 * ```
 */
export type RpcResult<M extends RpcMethod<object, unknown, object>> =
  | { readonly ok: true; readonly value: M["response"] }
  | { readonly ok: false; readonly error: DeclaredError<M["errors"]> };

/**
 * Handlers of a protocol's messages; throw {@link RpcDeclaredError} for a declared error.
 *
 * @example
 * ```ts
 * const handlers: RpcHandlers<MovieMethods> = {
 *   getMovie: async ({ movieId }) => (await repo.find(movieId)) ?? Promise.reject(new RpcDeclaredError("MovieNotFound", { movieId })),
 *   getMovies: ({ movieIds }) => repo.findMany(movieIds),
 * };
 * ```
 */
export type RpcHandlers<M extends RpcMethods> = {
  readonly [K in keyof M]: (
    request: M[K]["request"],
  ) => Promise<M[K]["response"]> | M[K]["response"];
};

/**
 * Thrown by a handler to answer with an error the protocol declares (e.g. `MovieNotFound`).
 *
 * @example
 * ```ts
 * throw new RpcDeclaredError("MovieNotFound", { movieId });
 * ```
 */
export class RpcDeclaredError<
  N extends string = string,
  V extends object = object,
> extends Error {
  override readonly name = "RpcDeclaredError";
  constructor(
    readonly errorName: N,
    readonly value: V,
  ) {
    super(`declared error ${errorName}`);
  }
}

/**
 * A loaded Avro protocol, ready to serve or call.
 *
 * @example
 * ```ts
 * const movies = await loadProtocol("MovieService");
 * movies.name; // "dev.sluice.reviews.MovieService"
 * ```
 */
export interface RpcProtocol {
  /** Full name of the protocol. */
  readonly name: string;
  /** Message names. */
  readonly messages: readonly string[];
  /** The avsc service (escape hatch; loosely typed). */
  readonly service: avsc.Service;
}

/**
 * Loads `avro/protocols/<name>.avdl` (IDL, with its `import schema` of `.avsc` files) or
 * `<name>.avpr` (JSON), or a path to such a file.
 *
 * @example
 * ```ts
 * const users = await loadProtocol("UserService");
 * ```
 */
export async function loadProtocol(nameOrPath: string): Promise<RpcProtocol> {
  const dir = avroAssetDir("protocols");
  const candidates = nameOrPath.includes("/")
    ? [nameOrPath]
    : [join(dir, `${nameOrPath}.avdl`), join(dir, `${nameOrPath}.avpr`)];
  const path = candidates.find((p) => existsSync(p));
  if (path === undefined)
    throw new SluiceError(
      "CONFIG",
      `no protocol file ${candidates.join(" or ")}`,
    );
  let protocol: unknown;
  if (path.endsWith(".avpr")) {
    protocol = JSON.parse(readFileSync(path, "utf8"));
  } else {
    protocol = await new Promise<unknown>((resolve, reject) => {
      avsc.assembleProtocol(path, (err: unknown, assembled?: object) => {
        if (err)
          reject(
            new SluiceError("CONFIG", `${path}: ${(err as Error).message}`, {
              cause: err,
            }),
          );
        else resolve(assembled);
      });
    });
  }
  return protocolFrom(protocol);
}

/**
 * Wraps a protocol given as JSON (the `.avpr` shape) or IDL text.
 *
 * @example
 * ```ts
 * const ping = protocolFrom('protocol Ping { string ping(string msg); }');
 * ```
 */
export function protocolFrom(protocol: unknown): RpcProtocol {
  const json: unknown =
    typeof protocol === "string" ? avsc.readProtocol(protocol) : protocol;
  const service = avsc.Service.forProtocol(json, avroParseOptions());
  return {
    name: service.name,
    messages: service.messages.map((m: { name: string }) => m.name),
    service,
  };
}

interface AvscMessage {
  readonly name: string;
  readonly errorType: { readonly types: readonly avsc.Type[] };
}

function message(protocol: RpcProtocol, name: string): AvscMessage {
  const found = (protocol.service.messages as AvscMessage[]).find(
    (m) => m.name === name,
  );
  if (!found)
    throw new SluiceError("CONFIG", `${protocol.name} has no message ${name}`);
  return found;
}

function shortName(type: avsc.Type): string {
  const full = type.name ?? type.typeName;
  return full.slice(full.lastIndexOf(".") + 1);
}

/**
 * A running RPC server.
 *
 * @example
 * ```ts
 * const server: RpcServer = await serveTcp(protocol, handlers, { port: 0 });
 * console.log(server.port);
 * await server.close();
 * ```
 */
export interface RpcServer {
  /** The bound port (useful with port 0). */
  readonly port: number;
  /** The bound host. */
  readonly host: string;
  /** Stops accepting, ends open connections; idempotent. */
  close(): Promise<void>;
}

/**
 * Where and how a server listens.
 *
 * @example
 * ```ts
 * await serveHttp(protocol, handlers, { host: "127.0.0.1", port: 7002, onError: (e) => log.error(e) });
 * ```
 */
export interface RpcServerOptions {
  /** Port; 0 picks a free one. Default 0. */
  readonly port?: number;
  /** Host. Default 127.0.0.1. */
  readonly host?: string;
  /** Called with undeclared handler failures (they reach clients as an internal error). */
  readonly onError?: (error: unknown) => void;
}

function createAvscServer<M extends RpcMethods>(
  protocol: RpcProtocol,
  handlers: RpcHandlers<M>,
  onError: ((error: unknown) => void) | undefined,
): avsc.Service.Server {
  const server = protocol.service.createServer({
    silent: true,
  } as Partial<avsc.Service.ServerOptions>);
  const reported = new WeakSet<object>();
  // avsc also emits declared errors (rpcCode APPLICATION_ERROR) and the sentinel below; the
  // handler failures themselves are reported once, where they are caught.
  server.on("error", (error: unknown) => {
    const rpcCode = (error as { rpcCode?: unknown } | null)?.rpcCode;
    if (
      rpcCode === "APPLICATION_ERROR" ||
      (typeof error === "object" && error !== null && reported.has(error))
    )
      return;
    onError?.(error);
  });
  for (const name of protocol.messages) {
    const handler = handlers[name];
    if (handler === undefined)
      throw new SluiceError(
        "CONFIG",
        `no handler for ${protocol.name}.${name}`,
      );
    const declared = message(protocol, name).errorType.types.slice(1);
    server.onMessage(
      name,
      (request: object, cb: (err: unknown, res?: unknown) => void) => {
        Promise.resolve()
          .then(() => handler(request))
          .then(
            (response) => cb(null, response),
            (error: unknown) => {
              if (error instanceof RpcDeclaredError) {
                const type = declared.find(
                  (t) =>
                    t.name === error.errorName ||
                    shortName(t) === error.errorName,
                );
                if (type !== undefined) return cb(type.clone(error.value));
                onError?.(
                  new SluiceError(
                    "INTERNAL",
                    `${name} threw ${error.errorName}, which it does not declare`,
                  ),
                );
              } else {
                onError?.(error);
              }
              // Undeclared failures reach the client as a bare "internal server error": the
              // server's own message (SQL, stack details) stays in the server's logs.
              const sentinel = new Error("internal server error");
              reported.add(sentinel);
              cb(sentinel);
            },
          );
      },
    );
  }
  return server;
}

async function listen(
  server: net.Server,
  options: RpcServerOptions,
): Promise<{ port: number; host: string }> {
  const host = options.host ?? "127.0.0.1";
  server.listen(options.port ?? 0, host);
  await once(server, "listening");
  const address = server.address();
  if (address === null || typeof address === "string")
    throw new SluiceError("INTERNAL", "server has no TCP address");
  return { port: address.port, host };
}

function closer(server: net.Server, endAll: () => void): () => Promise<void> {
  let closing: Promise<void> | undefined;
  return () => {
    closing ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      endAll();
    });
    return closing;
  };
}

/**
 * Serves a protocol over TCP (stateful: each connection is one long-lived Avro channel).
 *
 * @example
 * ```ts
 * const server = await serveTcp<MovieMethods>(movies, { getMovie: ({ movieId }) => repo.get(movieId), getMovies: ... }, { port: 0 });
 * ```
 */
export async function serveTcp<M extends RpcMethods>(
  protocol: RpcProtocol,
  handlers: RpcHandlers<M>,
  options: RpcServerOptions = {},
): Promise<RpcServer> {
  const avscServer = createAvscServer(protocol, handlers, options.onError);
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    // Small request/response frames: without TCP_NODELAY, Nagle's algorithm and delayed
    // ACKs hold each response back for tens of milliseconds.
    socket.setNoDelay(true);
    sockets.add(socket);
    socket.on("error", (error) => options.onError?.(error));
    socket.once("close", () => sockets.delete(socket));
    avscServer.createChannel(socket);
  });
  const { port, host } = await listen(server, options);
  return {
    port,
    host,
    close: closer(server, () => sockets.forEach((s) => s.destroy())),
  };
}

/**
 * Serves a protocol over HTTP (stateless: each POST carries one framed call).
 *
 * @example
 * ```ts
 * const server = await serveHttp<UserMethods>(users, handlers, { port: 0 });
 * ```
 */
export async function serveHttp<M extends RpcMethods>(
  protocol: RpcProtocol,
  handlers: RpcHandlers<M>,
  options: RpcServerOptions = {},
): Promise<RpcServer> {
  const avscServer = createAvscServer(protocol, handlers, options.onError);
  const server = http.createServer((req, res) => {
    if (req.method !== "POST") {
      res.writeHead(405, { allow: "POST" }).end();
      return;
    }
    res.setHeader("content-type", "avro/binary");
    avscServer.createChannel((cb) => {
      cb(null, res);
      return req;
    });
  });
  server.keepAliveTimeout = 1000;
  const { port, host } = await listen(server, options);
  return {
    port,
    host,
    close: closer(server, () => server.closeAllConnections()),
  };
}

/**
 * Where a client connects and its default timeout.
 *
 * @example
 * ```ts
 * tcpClient(protocol, { host: "127.0.0.1", port: 7001, timeoutMs: 500 });
 * ```
 */
export interface RpcClientOptions {
  readonly host?: string;
  readonly port: number;
  /** Default per-call timeout, in ms. Default 5000. */
  readonly timeoutMs?: number;
}

/**
 * Per-call options.
 *
 * @example
 * ```ts
 * await client.call("getMovie", { movieId: 1 }, { timeoutMs: 200 });
 * ```
 */
export interface RpcCallOptions {
  /** Overrides the client's timeout for this call, in ms. */
  readonly timeoutMs?: number;
}

/**
 * A typed RPC client.
 *
 * @example
 * ```ts
 * const result = await client.call("getMovie", { movieId: 603 });
 * if (result.ok) use(result.value); else if (result.error.name === "MovieNotFound") skip();
 * ```
 */
export interface RpcClient<M extends RpcMethods> {
  /** Calls a message; resolves with the response or a declared error, rejects `SluiceError` otherwise. */
  call<K extends keyof M & string>(
    name: K,
    request: M[K]["request"],
    options?: RpcCallOptions,
  ): Promise<RpcResult<M[K]>>;
  /** Closes connections; idempotent. Later calls reject with `CLOSED`. */
  close(): Promise<void>;
}

function makeClient<M extends RpcMethods>(
  protocol: RpcProtocol,
  options: RpcClientOptions,
  transport: string,
  connect: (client: avsc.Service.Client) => void,
  shutdown: (client: avsc.Service.Client) => void,
): RpcClient<M> {
  const defaultTimeoutMs = options.timeoutMs ?? 5000;
  if (!Number.isInteger(defaultTimeoutMs) || defaultTimeoutMs <= 0) {
    throw new SluiceError(
      "CONFIG",
      `avro.rpc.timeoutMs must be a positive integer, got ${String(options.timeoutMs)}`,
    );
  }
  const client = protocol.service.createClient({
    buffering: true,
    timeout: defaultTimeoutMs,
  });
  let lastError: unknown;
  client.on("error", (error: unknown) => {
    lastError = error;
  });
  let closed = false;

  return {
    call<K extends keyof M & string>(
      name: K,
      request: M[K]["request"],
      callOptions: RpcCallOptions = {},
    ) {
      const label = `${protocol.name}.${name} over ${transport}`;
      if (closed)
        return Promise.reject(
          new SluiceError("CLOSED", `${label}: client is closed`),
        );
      const declared = message(protocol, name).errorType.types.slice(1);
      const timeoutMs = callOptions.timeoutMs ?? defaultTimeoutMs;
      if (client.activeChannels().length === 0) connect(client);
      return new Promise<RpcResult<M[K]>>((resolve, reject) => {
        const started = Date.now();
        let settled = false;
        const timer = setTimeout(() => {
          settled = true;
          reject(
            new SluiceError(
              "TIMEOUT",
              `${label} got no answer within ${timeoutMs} ms`,
              { retryable: true },
            ),
          );
        }, timeoutMs);
        client.emitMessage(
          name,
          request,
          { timeout: timeoutMs },
          (err: unknown, response?: unknown) => {
            if (settled) return;
            settled = true;
            clearTimeout(timer);
            if (err === null || err === undefined)
              return resolve({ ok: true, value: response as M[K]["response"] });
            const type = declared.find((t) => t.isValid(err));
            if (type !== undefined) {
              const error = {
                name: shortName(type),
                value: err,
              } as DeclaredError<M[K]["errors"]>;
              return resolve({ ok: false, error });
            }
            if (Date.now() - started >= timeoutMs) {
              return reject(
                new SluiceError(
                  "TIMEOUT",
                  `${label} got no answer within ${timeoutMs} ms`,
                  { retryable: true, cause: err },
                ),
              );
            }
            const reason =
              err instanceof Error
                ? err.message
                : typeof err === "string"
                  ? err
                  : "unexpected error value";
            const cause = lastError ?? err;
            const remote =
              err instanceof Error && client.activeChannels().length > 0;
            reject(
              remote
                ? new SluiceError(
                    "INTERNAL",
                    `${label} failed on the server: ${reason}`,
                    { cause },
                  )
                : new SluiceError("CONNECTION", `${label} failed: ${reason}`, {
                    retryable: true,
                    cause,
                  }),
            );
          },
        );
      });
    },
    close() {
      if (!closed) {
        closed = true;
        try {
          shutdown(client);
        } catch {
          // avsc's channels can throw while tearing down around a timed-out call; the
          // client is closed either way and close() never fails.
        }
      }
      return Promise.resolve();
    },
  };
}

/**
 * A client over one TCP connection (stateful channel), reconnecting on the next call after
 * the connection drops.
 *
 * @example
 * ```ts
 * const movies = tcpClient<MovieMethods>(await loadProtocol("MovieService"), { port: 7001 });
 * const result = await movies.call("getMovies", { movieIds: [1, 2] });
 * ```
 */
export function tcpClient<M extends RpcMethods>(
  protocol: RpcProtocol,
  options: RpcClientOptions,
): RpcClient<M> {
  const sockets = new Set<net.Socket>();
  return makeClient<M>(
    protocol,
    options,
    "tcp",
    (client) => {
      const socket = net.connect(options.port, options.host ?? "127.0.0.1");
      socket.setNoDelay(true);
      sockets.add(socket);
      const channel = client.createChannel(socket);
      // Every call made before the handshake completes waits on the channel's "_ready"
      // event; a busy client has far more than Node's default of 10 such waiters.
      (channel as unknown as NodeJS.EventEmitter).setMaxListeners(0);
      socket.on("error", () => channel.destroy(true));
      socket.once("close", () => {
        sockets.delete(socket);
        if (!channel.destroyed) channel.destroy(true);
      });
    },
    (client) => {
      client.destroyChannels({ noWait: true });
      sockets.forEach((s) => s.destroy());
    },
  );
}

/**
 * A client posting each call to an HTTP server (stateless channel).
 *
 * @example
 * ```ts
 * const users = httpClient<UserMethods>(await loadProtocol("UserService"), { port: 7002 });
 * const result = await users.call("getUser", { userId: 42 }, { timeoutMs: 500 });
 * ```
 */
export function httpClient<M extends RpcMethods>(
  protocol: RpcProtocol,
  options: RpcClientOptions,
): RpcClient<M> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  return makeClient<M>(
    protocol,
    options,
    "http",
    (client) => {
      client.createChannel((cb) => {
        let answered = false;
        const answer = (err: Error | null, res?: http.IncomingMessage) => {
          if (answered) return;
          answered = true;
          cb(err, res);
        };
        // avsc streams the request into what we return; buffer it and send it in one
        // POST with a Content-Length (a chunked body is unreadable to plain HTTP/1.1 servers).
        const chunks: Buffer[] = [];
        return new Writable({
          write(chunk: Buffer, _encoding, done) {
            chunks.push(chunk);
            done();
          },
          final(done) {
            const body = Buffer.concat(chunks);
            http
              .request({
                method: "POST",
                host: options.host ?? "127.0.0.1",
                port: options.port,
                agent,
                headers: {
                  "content-type": "avro/binary",
                  "content-length": body.length,
                },
              })
              .on("response", (res) => answer(null, res))
              .on("error", (error) => answer(error))
              .end(body);
            done();
          },
        });
      });
    },
    (client) => {
      client.destroyChannels({ noWait: true });
      agent.destroy();
    },
  );
}
