/**
 * A local stand-in for a Confluent Schema Registry (we cannot reach a real one in tests or the
 * embedded demo). It follows the documented REST shape for the calls Sluice makes:
 * `POST /subjects/{subject}/versions`, `POST /subjects/{subject}`, `GET /schemas/ids/{id}`,
 * `GET /subjects`, `GET /subjects/{subject}/versions`, with Confluent's `error_code`s.
 */
import { once } from "node:events";
import http from "node:http";
import avsc from "avsc";
import { InMemorySchemaRegistry } from "./registry.js";

/**
 * A running simulator.
 *
 * @example
 * ```ts
 * const sim: RegistrySimulator = await startRegistrySimulator();
 * await sim.close();
 * ```
 */
export interface RegistrySimulator {
  /** Base URL, e.g. `http://127.0.0.1:40123`. */
  readonly url: string;
  /** The backing store, to inspect or seed in tests. */
  readonly registry: InMemorySchemaRegistry;
  /** Stops the server; idempotent. */
  close(): Promise<void>;
}

/**
 * Where the simulator listens.
 *
 * @example
 * ```ts
 * await startRegistrySimulator({ host: "127.0.0.1", port: 0 });
 * ```
 */
export interface RegistrySimulatorOptions {
  /** Default 0 (a free port). */
  readonly port?: number;
  /** Default 127.0.0.1. */
  readonly host?: string;
}

const CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";

function send(res: http.ServerResponse, status: number, body: unknown): void {
  res
    .writeHead(status, { "content-type": CONTENT_TYPE })
    .end(JSON.stringify(body));
}

function fail(
  res: http.ServerResponse,
  status: number,
  errorCode: number,
  message: string,
): void {
  send(res, status, { error_code: errorCode, message });
}

async function readSchema(
  req: http.IncomingMessage,
  res: http.ServerResponse,
): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  let body: { schema?: unknown; schemaType?: unknown };
  try {
    body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as typeof body;
  } catch {
    fail(res, 400, 400, "Unrecognized request body: not JSON");
    return undefined;
  }
  if (body.schemaType !== undefined && body.schemaType !== "AVRO") {
    fail(
      res,
      422,
      42201,
      `Invalid schema: schemaType ${JSON.stringify(body.schemaType)} is not supported by the simulator`,
    );
    return undefined;
  }
  if (typeof body.schema !== "string") {
    fail(res, 422, 42201, "Invalid schema: field schema must be a string");
    return undefined;
  }
  try {
    avsc.Type.forSchema(JSON.parse(body.schema) as avsc.Schema);
  } catch (error) {
    fail(res, 422, 42201, `Invalid schema: ${(error as Error).message}`);
    return undefined;
  }
  return body.schema;
}

async function route(
  registry: InMemorySchemaRegistry,
  req: http.IncomingMessage,
  res: http.ServerResponse,
): Promise<void> {
  const path = new URL(req.url ?? "/", "http://registry").pathname;
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  const [first, second, third] = parts;
  if (
    req.method === "GET" &&
    first === "schemas" &&
    second === "ids" &&
    third !== undefined &&
    parts.length === 3
  ) {
    const id = Number(third);
    const schema = Number.isInteger(id)
      ? await registry.getById(id).catch(() => undefined)
      : undefined;
    return schema === undefined
      ? fail(res, 404, 40403, "Schema not found")
      : send(res, 200, { schema });
  }
  if (req.method === "GET" && first === "subjects" && parts.length === 1) {
    return send(res, 200, registry.subjectNames());
  }
  if (first === "subjects" && second !== undefined) {
    if (req.method === "POST" && third === "versions" && parts.length === 3) {
      const schema = await readSchema(req, res);
      if (schema === undefined) return;
      return send(res, 200, { id: registry.registerSync(second, schema).id });
    }
    if (req.method === "GET" && third === "versions" && parts.length === 3) {
      const versions = registry.versionsOf(second);
      return versions.length === 0
        ? fail(res, 404, 40401, "Subject not found")
        : send(res, 200, versions);
    }
    if (req.method === "POST" && parts.length === 2) {
      const schema = await readSchema(req, res);
      if (schema === undefined) return;
      if (!registry.hasSubject(second))
        return fail(res, 404, 40401, "Subject not found");
      const found = registry.lookupSync(second, schema);
      if (found === undefined) return fail(res, 404, 40403, "Schema not found");
      return send(res, 200, {
        subject: second,
        id: found.id,
        version: found.version,
        schema: JSON.stringify(JSON.parse(schema)),
      });
    }
  }
  fail(res, 404, 404, `HTTP 404 Not Found: ${req.method ?? "?"} ${path}`);
}

/**
 * Starts the simulator on loopback.
 *
 * @example
 * ```ts
 * const sim = await startRegistrySimulator();
 * const codec = createCodec("dev.sluice.reviews.Review", { framing: "confluent", registryUrl: sim.url });
 * await sim.close();
 * ```
 */
export async function startRegistrySimulator(
  options: RegistrySimulatorOptions = {},
): Promise<RegistrySimulator> {
  const registry = new InMemorySchemaRegistry();
  const server = http.createServer((req, res) => {
    route(registry, req, res).catch((error: unknown) =>
      fail(
        res,
        500,
        50001,
        `Error in the backend data store: ${error instanceof Error ? error.message : "unknown"}`,
      ),
    );
  });
  const host = options.host ?? "127.0.0.1";
  server.listen(options.port ?? 0, host);
  await once(server, "listening");
  const address = server.address();
  const port =
    typeof address === "object" && address !== null ? address.port : 0;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}`,
    registry,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
