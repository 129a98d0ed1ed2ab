/**
 * Schema registry clients for the Confluent wire format: one small interface, an HTTP client
 * that speaks the Confluent Schema Registry REST API, and an in-memory registry for tests.
 */
import { SluiceError } from "./internal/sluice-error.js";

/**
 * What the Confluent framing needs from a schema registry. Schemas travel as JSON strings,
 * as in the Confluent REST API.
 *
 * @example
 * ```ts
 * const id = await registry.register("dev.sluice.reviews.Review", JSON.stringify(schema));
 * const text = await registry.getById(id);
 * ```
 */
export interface SchemaRegistryClient {
  /** Registers a schema under a subject (idempotent) and returns its global id. */
  register(subject: string, schema: string): Promise<number>;
  /** The id of a schema already registered under a subject, or `undefined`. */
  getIdBySchema(subject: string, schema: string): Promise<number | undefined>;
  /** The schema (JSON text) with this global id; throws `NOT_FOUND` when unknown. */
  getById(id: number): Promise<string>;
}

/** Normalises schema JSON text so whitespace does not mint new ids. */
function normalise(schema: string): string {
  try {
    return JSON.stringify(JSON.parse(schema));
  } catch (cause) {
    throw new SluiceError("VALIDATE", "schema is not valid JSON", { cause });
  }
}

/**
 * A registry kept in memory, with the Confluent registry's id rules: ids are global, the same
 * schema gets the same id under every subject, versions count per subject.
 *
 * @example
 * ```ts
 * const registry = new InMemorySchemaRegistry();
 * const codec = createCodec("dev.sluice.reviews.Review", { framing: "confluent", registry });
 * ```
 */
export class InMemorySchemaRegistry implements SchemaRegistryClient {
  private readonly ids = new Map<string, number>();
  private readonly schemas = new Map<number, string>();
  private readonly subjects = new Map<string, number[]>();

  /** {@inheritDoc SchemaRegistryClient.register} */
  register(subject: string, schema: string): Promise<number> {
    return Promise.resolve(this.registerSync(subject, schema).id);
  }

  /** Synchronous register, returning the id and the subject version (for the simulator). */
  registerSync(
    subject: string,
    schema: string,
  ): { readonly id: number; readonly version: number } {
    const text = normalise(schema);
    let id = this.ids.get(text);
    if (id === undefined) {
      id = this.schemas.size + 1;
      this.ids.set(text, id);
      this.schemas.set(id, text);
    }
    const versions = this.subjects.get(subject) ?? [];
    if (!versions.includes(id)) versions.push(id);
    this.subjects.set(subject, versions);
    return { id, version: versions.indexOf(id) + 1 };
  }

  /** {@inheritDoc SchemaRegistryClient.getIdBySchema} */
  getIdBySchema(subject: string, schema: string): Promise<number | undefined> {
    return Promise.resolve(this.lookupSync(subject, schema)?.id);
  }

  /** Synchronous lookup of a schema under a subject, with its version (for the simulator). */
  lookupSync(
    subject: string,
    schema: string,
  ): { readonly id: number; readonly version: number } | undefined {
    const id = this.ids.get(normalise(schema));
    const versions = this.subjects.get(subject);
    if (id === undefined || versions === undefined || !versions.includes(id))
      return undefined;
    return { id, version: versions.indexOf(id) + 1 };
  }

  /** Subjects with at least one version, sorted. */
  subjectNames(): string[] {
    return [...this.subjects.keys()].sort();
  }

  /** Version numbers of a subject (1-based), empty when the subject is unknown. */
  versionsOf(subject: string): number[] {
    return (this.subjects.get(subject) ?? []).map((_id, i) => i + 1);
  }

  /** Whether a subject has any version (the simulator distinguishes 40401 from 40403). */
  hasSubject(subject: string): boolean {
    return this.subjects.has(subject);
  }

  /** {@inheritDoc SchemaRegistryClient.getById} */
  getById(id: number): Promise<string> {
    const schema = this.schemas.get(id);
    return schema === undefined
      ? Promise.reject(
          new SluiceError(
            "NOT_FOUND",
            `schema id ${id} is not in the registry`,
          ),
        )
      : Promise.resolve(schema);
  }
}

/**
 * Options of {@link HttpSchemaRegistryClient}.
 *
 * @example
 * ```ts
 * new HttpSchemaRegistryClient("http://127.0.0.1:8081", { requestTimeoutMs: 2000 });
 * ```
 */
export interface HttpSchemaRegistryOptions {
  /** Timeout of each request, in ms. Default 5000. */
  readonly requestTimeoutMs?: number;
}

const CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";

/**
 * A client of the Confluent Schema Registry REST API over `fetch`:
 * `POST /subjects/{subject}/versions` → `{ id }`, `POST /subjects/{subject}` → `{ id, version }`
 * (404 with `error_code` 40401/40403 when absent), `GET /schemas/ids/{id}` → `{ schema }`.
 * Credentials in the URL are sent as HTTP basic auth and never printed.
 *
 * @example
 * ```ts
 * const registry = new HttpSchemaRegistryClient("http://127.0.0.1:8081");
 * const id = await registry.register("dev.sluice.reviews.Review", schemaText);
 * ```
 */
export class HttpSchemaRegistryClient implements SchemaRegistryClient {
  private readonly base: string;
  private readonly authorization: string | undefined;
  private readonly requestTimeoutMs: number;

  constructor(url: string, options: HttpSchemaRegistryOptions = {}) {
    const parsed = new URL(url);
    this.authorization =
      parsed.username === ""
        ? undefined
        : `Basic ${Buffer.from(`${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`).toString("base64")}`;
    parsed.username = "";
    parsed.password = "";
    this.base = parsed.toString().replace(/\/+$/, "");
    this.requestTimeoutMs = options.requestTimeoutMs ?? 5000;
  }

  /** {@inheritDoc SchemaRegistryClient.register} */
  async register(subject: string, schema: string): Promise<number> {
    const body = await this.request(
      "POST",
      `/subjects/${encodeURIComponent(subject)}/versions`,
      { schema },
    );
    return readId(body, "register");
  }

  /** {@inheritDoc SchemaRegistryClient.getIdBySchema} */
  async getIdBySchema(
    subject: string,
    schema: string,
  ): Promise<number | undefined> {
    const body = await this.request(
      "POST",
      `/subjects/${encodeURIComponent(subject)}`,
      { schema },
      true,
    );
    return body === undefined ? undefined : readId(body, "lookup");
  }

  /** {@inheritDoc SchemaRegistryClient.getById} */
  async getById(id: number): Promise<string> {
    const body = await this.request("GET", `/schemas/ids/${id}`);
    if (body === undefined)
      throw new SluiceError(
        "NOT_FOUND",
        `schema id ${id} is not in the registry`,
      );
    const schema = (body as { schema?: unknown }).schema;
    if (typeof schema !== "string")
      throw new SluiceError(
        "INTERNAL",
        `registry answered GET /schemas/ids/${id} without a schema`,
      );
    return schema;
  }

  private async request(
    method: string,
    path: string,
    json?: unknown,
    notFoundIsUndefined = false,
  ): Promise<unknown> {
    const headers: Record<string, string> = { accept: CONTENT_TYPE };
    if (json !== undefined) headers["content-type"] = CONTENT_TYPE;
    if (this.authorization !== undefined)
      headers["authorization"] = this.authorization;
    let response: Response;
    try {
      response = await fetch(`${this.base}${path}`, {
        method,
        headers,
        ...(json === undefined ? {} : { body: JSON.stringify(json) }),
        signal: AbortSignal.timeout(this.requestTimeoutMs),
      });
    } catch (cause) {
      const timedOut = cause instanceof Error && cause.name === "TimeoutError";
      throw new SluiceError(
        timedOut ? "TIMEOUT" : "CONNECTION",
        timedOut
          ? `registry ${method} ${path} took longer than ${this.requestTimeoutMs} ms`
          : `registry ${method} ${path} failed`,
        { retryable: true, cause },
      );
    }
    const text = await response.text();
    let body: unknown;
    try {
      body = text === "" ? {} : JSON.parse(text);
    } catch (cause) {
      throw new SluiceError(
        "INTERNAL",
        `registry ${method} ${path} answered ${response.status} with non-JSON`,
        { cause },
      );
    }
    if (response.ok) return body;
    const { error_code: code, message } = body as {
      error_code?: unknown;
      message?: unknown;
    };
    const detail = `registry ${method} ${path} answered ${response.status}${typeof code === "number" ? ` (error_code ${code})` : ""}: ${typeof message === "string" ? message : text}`;
    if (response.status === 404) {
      if (notFoundIsUndefined) return undefined;
      throw new SluiceError("NOT_FOUND", detail);
    }
    if (response.status === 409) throw new SluiceError("CONFLICT", detail);
    if (response.status === 422) throw new SluiceError("VALIDATE", detail);
    throw new SluiceError(
      response.status >= 500 ? "UNAVAILABLE" : "INTERNAL",
      detail,
      { retryable: response.status >= 500 },
    );
  }
}

function readId(body: unknown, what: string): number {
  const id = (body as { id?: unknown }).id;
  if (typeof id !== "number" || !Number.isInteger(id))
    throw new SluiceError(
      "INTERNAL",
      `registry ${what} answered without an integer id`,
    );
  return id;
}
