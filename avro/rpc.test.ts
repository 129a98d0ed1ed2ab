import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SluiceError } from "./internal/sluice-error.js";
import {
  httpClient,
  loadProtocol,
  protocolFrom,
  RpcDeclaredError,
  serveHttp,
  serveTcp,
  tcpClient,
  type RpcClient,
  type RpcMethod,
  type RpcProtocol,
  type RpcServer,
} from "./rpc.js";

interface Movie {
  movieId: number;
  title: string;
  releaseYear: number | null;
  genres: string[];
  updatedAt: Date;
}

type MovieMethods = {
  getMovie: RpcMethod<
    { movieId: number },
    Movie,
    { MovieNotFound: { movieId: number } }
  >;
  getMovies: RpcMethod<{ movieIds: number[] }, Movie[]>;
};

const movies = new Map<number, Movie>([
  [
    603,
    {
      movieId: 603,
      title: "The Matrix",
      releaseYear: 1999,
      genres: ["Action", "Sci-Fi"],
      updatedAt: new Date(1_700_000_000_000),
    },
  ],
  [
    949,
    {
      movieId: 949,
      title: "Heat",
      releaseYear: 1995,
      genres: ["Crime"],
      updatedAt: new Date(1_700_000_000_000),
    },
  ],
]);

const SLOW_ID = 1;
const CRASH_ID = 2;

const handlers = {
  async getMovie({ movieId }: { movieId: number }): Promise<Movie> {
    if (movieId === SLOW_ID)
      await new Promise((resolve) => setTimeout(resolve, 500));
    if (movieId === CRASH_ID) throw new Error("database is on fire");
    const movie = movies.get(movieId);
    if (!movie) throw new RpcDeclaredError("MovieNotFound", { movieId });
    return movie;
  },
  getMovies: ({ movieIds }: { movieIds: number[] }): Movie[] =>
    movieIds.flatMap((id) => (movies.has(id) ? [movies.get(id)!] : [])),
};

let protocol: RpcProtocol;
beforeAll(async () => {
  protocol = await loadProtocol("MovieService");
});

describe("loadProtocol", () => {
  it("assembles the IDL protocols with their imported .avsc records", async () => {
    expect(protocol.name).toBe("dev.sluice.reviews.MovieService");
    expect(protocol.messages).toEqual(["getMovie", "getMovies"]);
    const users = await loadProtocol("UserService");
    expect(users.messages).toEqual(["getUser", "getUsers"]);
  });

  it("fails naming the file when a protocol does not exist", async () => {
    await expect(loadProtocol("NoSuchService")).rejects.toThrow(
      /NoSuchService\.avdl/,
    );
  });
});

describe.each([
  ["tcp", serveTcp, tcpClient],
  ["http", serveHttp, httpClient],
] as const)("Avro RPC over %s", (_transport, serve, connect) => {
  let server: RpcServer;
  let client: RpcClient<MovieMethods>;
  const serverErrors: unknown[] = [];

  beforeAll(async () => {
    server = await serve<MovieMethods>(protocol, handlers, {
      port: 0,
      onError: (e) => serverErrors.push(e),
    });
    client = connect<MovieMethods>(protocol, {
      port: server.port,
      timeoutMs: 2000,
    });
  });
  afterAll(async () => {
    await client.close();
    await server.close();
  });

  it("calls a message and gets the typed response, logical types included", async () => {
    expect(await client.call("getMovie", { movieId: 603 })).toEqual({
      ok: true,
      value: movies.get(603),
    });
  });

  it("calls the bulk message", async () => {
    const result = await client.call("getMovies", { movieIds: [949, 7, 603] });
    expect(result.ok && result.value.map((m) => m.title)).toEqual([
      "Heat",
      "The Matrix",
    ]);
  });

  it("answers many concurrent calls", async () => {
    const results = await Promise.all(
      [603, 949, 603, 949, 603].map((movieId) =>
        client.call("getMovie", { movieId }),
      ),
    );
    expect(results.every((r) => r.ok)).toBe(true);
  });

  it("returns a declared error as a typed result", async () => {
    const result = await client.call("getMovie", { movieId: 404 });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.name).toBe("MovieNotFound");
      expect(result.error.value.movieId).toBe(404);
    }
  });

  it("rejects an undeclared server error as a SluiceError without leaking the server's message", async () => {
    const error = await client
      .call("getMovie", { movieId: CRASH_ID })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SluiceError);
    expect((error as SluiceError).code).toBe("INTERNAL");
    expect((error as SluiceError).message).toMatch(
      /MovieService.getMovie .* failed on the server: internal server error/,
    );
    expect(serverErrors).toEqual([
      expect.objectContaining({ message: "database is on fire" }),
    ]);
  });

  it("times out a slow call with a retryable TIMEOUT", async () => {
    const error = await client
      .call("getMovie", { movieId: SLOW_ID }, { timeoutMs: 100 })
      .catch((e: unknown) => e);
    expect((error as SluiceError).code).toBe("TIMEOUT");
    expect((error as SluiceError).retryable).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await client.call("getMovie", { movieId: 949 })).toMatchObject({
      ok: true,
    });
  });

  it("closes safely in every state: with a timed-out call pending, after an error, twice", async () => {
    const other = connect<MovieMethods>(protocol, { port: server.port });
    const timedOut = await other
      .call("getMovie", { movieId: SLOW_ID }, { timeoutMs: 50 })
      .catch((e: unknown) => e);
    expect((timedOut as SluiceError).code).toBe("TIMEOUT");
    // close while the server is still working on the timed-out call
    await expect(other.close()).resolves.toBeUndefined();
    await expect(other.close()).resolves.toBeUndefined();
    // after a server error
    const third = connect<MovieMethods>(protocol, { port: server.port });
    await third.call("getMovie", { movieId: CRASH_ID }).catch(() => undefined);
    await expect(third.close()).resolves.toBeUndefined();
    await expect(third.close()).resolves.toBeUndefined();
    // and with a call in flight: it settles (CLOSED, CONNECTION or its answer), never hangs
    const fourth = connect<MovieMethods>(protocol, { port: server.port });
    const inFlight = fourth
      .call("getMovie", { movieId: SLOW_ID }, { timeoutMs: 2000 })
      .catch((e: unknown) => e);
    await expect(fourth.close()).resolves.toBeUndefined();
    expect(await inFlight).toBeDefined();
    // the late answers to the closed clients reach nobody and break nothing
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(await client.call("getMovie", { movieId: 949 })).toMatchObject({
      ok: true,
    });
  });

  it("rejects a call after close with CLOSED", async () => {
    const other = connect<MovieMethods>(protocol, { port: server.port });
    await other.close();
    await other.close();
    await expect(
      other.call("getMovie", { movieId: 603 }),
    ).rejects.toMatchObject({ code: "CLOSED" });
  });
});

describe("RPC connection failures", () => {
  it.each([
    ["tcp", tcpClient],
    ["http", httpClient],
  ] as const)(
    "rejects with a retryable error when nothing listens (%s)",
    async (_t, connect) => {
      const server = await serveTcp<{
        ping: RpcMethod<{ msg: string }, string>;
      }>(protocolFrom("protocol Ping { string ping(string msg); }"), {
        ping: ({ msg }: { msg: string }) => msg,
      });
      const port = server.port;
      await server.close();
      const client = connect(protocol, { port, timeoutMs: 1000 });
      const error = await client
        .call("getMovie", { movieId: 603 })
        .catch((e: unknown) => e);
      await client.close();
      expect(error).toBeInstanceOf(SluiceError);
      expect(["CONNECTION", "TIMEOUT"]).toContain((error as SluiceError).code);
      expect((error as SluiceError).retryable).toBe(true);
    },
  );

  it("reconnects over tcp after the server restarts on the same port", async () => {
    const first = await serveTcp<MovieMethods>(protocol, handlers);
    const client = tcpClient<MovieMethods>(protocol, {
      port: first.port,
      timeoutMs: 1000,
    });
    expect((await client.call("getMovie", { movieId: 603 })).ok).toBe(true);
    await first.close();
    await client.call("getMovie", { movieId: 603 }).catch(() => undefined);
    const second = await serveTcp<MovieMethods>(protocol, handlers, {
      port: first.port,
    });
    expect((await client.call("getMovie", { movieId: 603 })).ok).toBe(true);
    await client.close();
    await second.close();
  });
});

describe("Avro RPC over http on the wire", () => {
  it("posts each call with a Content-Length, not chunked (plain HTTP/1.1 servers read it)", async () => {
    const seen: { length?: string; chunked?: string; bytes: number }[] = [];
    const avroServer = await serveHttp<MovieMethods>(protocol, handlers, {
      port: 0,
    });
    // A recording proxy in front of the Avro server: it sees the request as sent.
    const proxy = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const body = Buffer.concat(chunks);
        const entry: { length?: string; chunked?: string; bytes: number } = {
          bytes: body.length,
        };
        if (req.headers["content-length"] !== undefined)
          entry.length = req.headers["content-length"];
        if (req.headers["transfer-encoding"] !== undefined)
          entry.chunked = req.headers["transfer-encoding"];
        seen.push(entry);
        const forward = http.request(
          {
            method: "POST",
            port: avroServer.port,
            host: "127.0.0.1",
            headers: {
              "content-type": "avro/binary",
              "content-length": body.length,
            },
          },
          (answer) => {
            res.writeHead(answer.statusCode ?? 500, answer.headers);
            answer.pipe(res);
          },
        );
        forward.end(body);
      });
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    const port = (proxy.address() as { port: number }).port;
    const client = httpClient<MovieMethods>(protocol, { port });
    try {
      expect(await client.call("getMovie", { movieId: 603 })).toMatchObject({
        ok: true,
      });
      expect(seen.length).toBeGreaterThan(0);
      for (const s of seen) {
        expect(s.chunked).toBeUndefined();
        expect(Number(s.length)).toBe(s.bytes);
      }
    } finally {
      await client.close();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
      proxy.closeAllConnections();
      await avroServer.close();
    }
  });
});
