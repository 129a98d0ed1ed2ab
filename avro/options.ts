/**
 * Codec options: declared once, defaulted once, resolved once. Bad options throw a
 * `SluiceError` with code `CONFIG` naming the field.
 */
import { SluiceError } from "./internal/sluice-error.js";
import type { SchemaRegistryClient } from "./registry.js";
import { HttpSchemaRegistryClient } from "./registry.js";
import type { LongMode } from "./longs.js";
import { defaultSchemaStore, type SchemaStore } from "./schema-store.js";

/**
 * Options of a codec using Avro single-object encoding (the default; no registry needed).
 *
 * @example
 * ```ts
 * const options: SingleObjectCodecOptions = { store: SchemaStore.load() };
 * ```
 */
export interface SingleObjectCodecOptions {
  /** Framing of each message. Default `"single-object"`: `c3 01` + 8-byte LE CRC-64-AVRO + body. */
  readonly framing?: "single-object";
  /** Where writer schemas are looked up by fingerprint. Default: all `avro/schemas/*.avsc`. */
  readonly store?: SchemaStore;
  /**
   * How Avro `long` values appear: `"number"` (default; exact within ±(2^53−1), a frame with a
   * larger long fails with `DECODE`, encoding one throws `VALIDATE`) or `"bigint"` (decoded as
   * `bigint`, exact over the whole signed 64-bit range; encode takes a `bigint` or a safe
   * integer `number`).
   */
  readonly longs?: LongMode;
}

/**
 * Options of a codec using the Confluent wire format (`00` + 4-byte BE schema id + body).
 *
 * @example
 * ```ts
 * const options: ConfluentCodecOptions = { framing: "confluent", registryUrl: "http://127.0.0.1:8081", subject: "reviews-value" };
 * ```
 */
export interface ConfluentCodecOptions {
  readonly framing: "confluent";
  /** A registry client; give this or `registryUrl`. */
  readonly registry?: SchemaRegistryClient;
  /** Base URL of a Confluent-compatible Schema Registry; give this or `registry`. */
  readonly registryUrl?: string;
  /** Subject the writer schema is registered under. Default: the schema's full name (RecordNameStrategy). */
  readonly subject?: string;
  /** Register the writer schema on first encode (true) or only look its id up (false). Default true. */
  readonly autoRegister?: boolean;
  /** Timeout of each registry HTTP request, in ms. Default 5000. */
  readonly requestTimeoutMs?: number;
  /** Where named types referenced by fetched schemas resolve. Default: all `avro/schemas/*.avsc`. */
  readonly store?: SchemaStore;
  /**
   * How Avro `long` values appear: `"number"` (default; exact within ±(2^53−1), a frame with a
   * larger long fails with `DECODE`, encoding one throws `VALIDATE`) or `"bigint"` (decoded as
   * `bigint`, exact over the whole signed 64-bit range; encode takes a `bigint` or a safe
   * integer `number`).
   */
  readonly longs?: LongMode;
}

/**
 * Either framing's options.
 *
 * @example
 * ```ts
 * const options: CodecOptions = {}; // single-object, default store
 * ```
 */
export type CodecOptions = SingleObjectCodecOptions | ConfluentCodecOptions;

/**
 * Single-object options after defaults.
 *
 * @example
 * ```ts
 * const { store }: ResolvedSingleObjectOptions = resolveSingleObjectOptions();
 * ```
 */
export interface ResolvedSingleObjectOptions {
  readonly framing: "single-object";
  /** The store, in the requested long mode (`store.longs`). */
  readonly store: SchemaStore;
}

/**
 * Confluent options after defaults.
 *
 * @example
 * ```ts
 * const { registry, autoRegister }: ResolvedConfluentOptions = resolveConfluentOptions({ framing: "confluent", registry: new InMemorySchemaRegistry() });
 * ```
 */
export interface ResolvedConfluentOptions {
  readonly framing: "confluent";
  readonly registry: SchemaRegistryClient;
  readonly subject: string | undefined;
  readonly autoRegister: boolean;
  /** The store, in the requested long mode (`store.longs`). */
  readonly store: SchemaStore;
}

function configError(message: string): SluiceError {
  return new SluiceError("CONFIG", message, { context: { stage: "decode" } });
}

/** The store in the requested long mode; an unknown mode is a `CONFIG` error naming the field. */
function storeFor(
  store: SchemaStore | undefined,
  longs: LongMode | undefined,
): SchemaStore {
  const base = store ?? defaultSchemaStore();
  if (longs === undefined) return base;
  const mode: unknown = longs;
  if (mode !== "number" && mode !== "bigint")
    throw configError(
      `avro.codec.longs must be "number" or "bigint", got ${JSON.stringify(mode)}`,
    );
  return base.withLongs(longs);
}

/**
 * Applies defaults and validates single-object options.
 *
 * @example
 * ```ts
 * resolveSingleObjectOptions({}); // { framing: "single-object", store: defaultSchemaStore() }
 * ```
 */
export function resolveSingleObjectOptions(
  options: SingleObjectCodecOptions = {},
): ResolvedSingleObjectOptions {
  const framing: unknown = options.framing ?? "single-object";
  if (framing !== "single-object") {
    throw configError(
      `avro.codec.framing must be "single-object" or "confluent", got ${JSON.stringify(framing)}`,
    );
  }
  return {
    framing: "single-object",
    store: storeFor(options.store, options.longs),
  };
}

/**
 * Applies defaults and validates Confluent options.
 *
 * @example
 * ```ts
 * resolveConfluentOptions({ framing: "confluent", registryUrl: "http://127.0.0.1:8081" });
 * ```
 */
export function resolveConfluentOptions(
  options: ConfluentCodecOptions,
): ResolvedConfluentOptions {
  if (options.registry !== undefined && options.registryUrl !== undefined) {
    throw configError(
      "avro.codec.registry and avro.codec.registryUrl are exclusive: give one",
    );
  }
  if (
    options.subject !== undefined &&
    (typeof options.subject !== "string" || options.subject.length === 0)
  ) {
    throw configError("avro.codec.subject must be a non-empty string");
  }
  const timeoutMs = options.requestTimeoutMs ?? 5000;
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) {
    throw configError(
      `avro.codec.requestTimeoutMs must be a positive integer, got ${String(timeoutMs)}`,
    );
  }
  let registry = options.registry;
  if (registry === undefined) {
    if (options.registryUrl === undefined) {
      throw configError(
        'avro.codec.registryUrl (or avro.codec.registry) is required when framing is "confluent"',
      );
    }
    let url: URL;
    try {
      url = new URL(options.registryUrl);
    } catch {
      throw configError(
        `avro.codec.registryUrl must be an http(s) URL (value not shown: it may hold credentials)`,
      );
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw configError(
        `avro.codec.registryUrl must be an http(s) URL (value not shown: it may hold credentials)`,
      );
    }
    registry = new HttpSchemaRegistryClient(options.registryUrl, {
      requestTimeoutMs: timeoutMs,
    });
  }
  return {
    framing: "confluent",
    registry,
    subject: options.subject,
    autoRegister: options.autoRegister ?? true,
    store: storeFor(options.store, options.longs),
  };
}
