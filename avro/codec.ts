/**
 * Encode and decode records for the wire. Default framing is Avro single-object encoding
 * (`c3 01` + 8-byte little-endian CRC-64-AVRO fingerprint of the writer schema + body), which
 * needs no registry: the writer schema is found by fingerprint in the local schema store and
 * resolved to the reader schema. The Confluent wire format (`00` + 4-byte big-endian schema id
 * + body) is used when a registry is configured.
 */
import avsc from "avsc";
import { SluiceError } from "./internal/sluice-error.js";
import { decodeError, type DecodeResult } from "./errors.js";
import { BoundsError, checkBounds, hasBlocks } from "./internal/bounds.js";
import { isLongType } from "./longs.js";
import {
  resolveConfluentOptions,
  resolveSingleObjectOptions,
  type ConfluentCodecOptions,
  type ResolvedConfluentOptions,
  type SingleObjectCodecOptions,
} from "./options.js";
import {
  fingerprintOf,
  type AvroSchemaJson,
  type SchemaStore,
} from "./schema-store.js";

/**
 * The two magic bytes that open an Avro single-object frame.
 *
 * @example
 * ```ts
 * frame[0] === SINGLE_OBJECT_MAGIC[0] && frame[1] === SINGLE_OBJECT_MAGIC[1];
 * ```
 */
export const SINGLE_OBJECT_MAGIC: Readonly<[number, number]> = [0xc3, 0x01];
/**
 * The magic byte that opens a Confluent wire-format frame.
 *
 * @example
 * ```ts
 * frame[0] === CONFLUENT_MAGIC;
 * ```
 */
export const CONFLUENT_MAGIC = 0x00;
const SINGLE_OBJECT_HEADER = 10;
const CONFLUENT_HEADER = 5;

/**
 * A schema to build a codec for: a name in the store, schema JSON, or an avsc `Type`.
 *
 * @example
 * ```ts
 * const input: SchemaInput = "dev.sluice.reviews.Review";
 * ```
 */
export type SchemaInput = string | AvroSchemaJson | avsc.Type;

/**
 * A synchronous codec (single-object framing).
 *
 * @example
 * ```ts
 * const codec = createCodec<Review>("dev.sluice.reviews.Review");
 * const bytes = codec.encode(review);
 * const back = codec.decode(bytes);
 * ```
 */
export interface Codec<T> {
  /** Full name of the reader/writer schema (or its type name when unnamed). */
  readonly schemaName: string;
  /** CRC-64-AVRO fingerprint of the schema's Parsing Canonical Form. */
  readonly fingerprint: bigint;
  /** The avsc type behind the codec (escape hatch; its methods are loosely typed). */
  readonly type: avsc.Type;
  /** Encodes a value; throws `VALIDATE` naming the first field that does not fit the schema. */
  encode(value: T): Buffer;
  /** Decodes a frame written with any known version of the schema; throws `DECODE` when it cannot. */
  decode(bytes: Uint8Array): T;
  /** Like `decode`, but returns the `DECODE` error instead of throwing it. */
  tryDecode(bytes: Uint8Array): DecodeResult<T>;
}

/**
 * An asynchronous codec (Confluent framing: ids come from a registry).
 *
 * @example
 * ```ts
 * const codec = createCodec<Review>("dev.sluice.reviews.Review", { framing: "confluent", registry });
 * const bytes = await codec.encode(review);
 * ```
 */
export interface AsyncCodec<T> {
  readonly schemaName: string;
  readonly fingerprint: bigint;
  readonly type: avsc.Type;
  /** Encodes a value, registering (or looking up) the writer schema's id on first use. */
  encode(value: T): Promise<Buffer>;
  /** Decodes a frame, fetching an unknown writer schema by id; rejects `DECODE` when it cannot. */
  decode(bytes: Uint8Array): Promise<T>;
  /** Resolves `DECODE` failures as `{ ok: false }`; registry outages still reject (retry, do not dead-letter). */
  tryDecode(bytes: Uint8Array): Promise<DecodeResult<T>>;
}

function nameOf(type: avsc.Type): string {
  return type.name ?? type.typeName;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (
    typeof value === "number" &&
    Number.isInteger(value) &&
    !Number.isSafeInteger(value)
  )
    return 'number beyond ±(2^53−1) (not exact; pass a bigint with longs: "bigint")';
  if (typeof value === "bigint") return "bigint";
  if (Array.isArray(value)) return "array";
  if (value instanceof Date) return "Date";
  if (Buffer.isBuffer(value)) return "Buffer";
  return typeof value;
}

/** Resolves the schema input to a reader type. */
function readerType(schema: SchemaInput, store: SchemaStore): avsc.Type {
  if (avsc.Type.isType(schema)) return schema as avsc.Type;
  if (
    typeof schema === "string" &&
    !/^(null|boolean|int|long|float|double|bytes|string)$/.test(schema)
  ) {
    return store.type(schema);
  }
  return store.register(schema);
}

/** What a long field takes, in the words of the codec's long mode. */
function longExpectation(type: avsc.Type, got: unknown): string {
  if (typeof got === "bigint")
    return type.isValid(0n)
      ? "long (a bigint within the signed 64-bit range)"
      : 'long as a safe-integer number (this codec has longs: "number"; use longs: "bigint" for bigint values)';
  return "long";
}

/** Throws `VALIDATE` naming the first offending path when a value does not fit the type. */
function validate(type: avsc.Type, value: unknown): void {
  let problem: string | undefined;
  const ok = type.isValid(value, {
    errorHook: (path: string[], got: unknown, expected: avsc.Type) => {
      const wanted = isLongType(expected)
        ? longExpectation(expected, got)
        : expected.typeName;
      problem ??= `${path.length > 0 ? path.join(".") : "(root)"}: expected ${wanted}${expected.name ? ` ${expected.name}` : ""}, got ${describe(got)}`;
    },
  });
  if (!ok) {
    throw new SluiceError(
      "VALIDATE",
      `value is not a valid ${nameOf(type)}: ${problem ?? "does not match the schema"}`,
      {
        context:
          problem === undefined
            ? {}
            : { field: problem.slice(0, problem.indexOf(":")) },
      },
    );
  }
}

const blockyCache = new WeakMap<avsc.Type, boolean>();
function blocky(type: avsc.Type): boolean {
  let known = blockyCache.get(type);
  if (known === undefined) {
    known = hasBlocks(type);
    blockyCache.set(type, known);
  }
  return known;
}

/** Decodes the body at `offset` with an optional resolver, mapping every failure to `DECODE`. */
function decodeBody(
  reader: avsc.Type,
  writer: avsc.Type,
  resolver: avsc.Resolver | undefined,
  bytes: Buffer,
  offset: number,
): unknown {
  let result: { value: unknown; offset: number };
  try {
    // avsc trusts block counts; check them against the bytes first (see internal/bounds.ts).
    if (blocky(writer)) checkBounds(writer, bytes, offset);
    result = reader.decode(bytes, offset, resolver);
  } catch (cause) {
    if (cause instanceof BoundsError) {
      throw decodeError(
        `corrupt ${nameOf(writer)} body: ${cause.message}`,
        bytes,
        cause,
      );
    }
    throw decodeError(
      `body is not a valid ${nameOf(writer)}: ${(cause as Error).message}`,
      bytes,
      cause,
    );
  }
  if (result.offset < 0) {
    throw decodeError(
      `truncated body: ${bytes.length - offset} bytes after the header are not a complete ${nameOf(writer)}`,
      bytes,
    );
  }
  if (result.offset !== bytes.length) {
    throw decodeError(
      `${bytes.length - result.offset} trailing bytes after a complete ${nameOf(writer)}`,
      bytes,
    );
  }
  return result.value;
}

/** Caches one resolver per writer type; creation failure is a `DECODE` error for that frame. */
class Resolvers {
  private readonly cache = new Map<avsc.Type, avsc.Resolver | Error>();
  constructor(private readonly reader: avsc.Type) {}

  get(
    writer: avsc.Type,
    label: string,
    bytes: Buffer,
  ): avsc.Resolver | undefined {
    if (writer === this.reader) return undefined;
    let entry = this.cache.get(writer);
    if (entry === undefined) {
      try {
        entry = this.reader.createResolver(writer);
      } catch (cause) {
        entry = cause instanceof Error ? cause : new Error(String(cause));
      }
      this.cache.set(writer, entry);
    }
    if (entry instanceof Error) {
      throw decodeError(
        `writer schema ${label} cannot be read as ${nameOf(this.reader)}: ${entry.message}`,
        bytes,
        entry,
      );
    }
    return entry;
  }
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes)
    ? bytes
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function asDecodeResult<T>(fn: () => T): DecodeResult<T> {
  try {
    return { ok: true, value: fn() };
  } catch (error) {
    if (error instanceof SluiceError && error.code === "DECODE")
      return { ok: false, error };
    throw error;
  }
}

/**
 * Builds a codec for a schema. With no options (or `framing: "single-object"`) it returns a
 * synchronous {@link Codec} using Avro single-object encoding; with `framing: "confluent"` it
 * returns an {@link AsyncCodec} using the Confluent wire format and a schema registry.
 *
 * @example
 * ```ts
 * const reviews = createCodec<Review>("dev.sluice.reviews.Review");
 * const frame = reviews.encode(review); // c3 01 <fingerprint> <body>
 * const result = reviews.tryDecode(frame);
 *
 * const orders = createCodec<OrderStarted>("OrderStarted", { framing: "confluent", registryUrl: "http://127.0.0.1:8081" });
 * const bytes = await orders.encode(event); // 00 <id> <body>
 * ```
 */
export function createCodec<T = unknown>(
  schema: SchemaInput,
  options?: SingleObjectCodecOptions,
): Codec<T>;
export function createCodec<T = unknown>(
  schema: SchemaInput,
  options: ConfluentCodecOptions,
): AsyncCodec<T>;
export function createCodec<T = unknown>(
  schema: SchemaInput,
  options: SingleObjectCodecOptions | ConfluentCodecOptions = {},
): Codec<T> | AsyncCodec<T> {
  if (options.framing === "confluent")
    return confluentCodec<T>(schema, resolveConfluentOptions(options));
  const { store } = resolveSingleObjectOptions(options);
  const type = readerType(schema, store);
  const fingerprint = fingerprintOf(type);
  store.register(type);
  const header = Buffer.alloc(SINGLE_OBJECT_HEADER);
  header[0] = SINGLE_OBJECT_MAGIC[0];
  header[1] = SINGLE_OBJECT_MAGIC[1];
  header.writeBigUInt64LE(fingerprint, 2);
  const resolvers = new Resolvers(type);

  const decode = (input: Uint8Array): T => {
    const bytes = toBuffer(input);
    if (bytes.length < SINGLE_OBJECT_HEADER) {
      throw decodeError(
        `truncated single-object header: ${bytes.length} bytes, need at least ${SINGLE_OBJECT_HEADER}`,
        bytes,
      );
    }
    if (
      bytes[0] !== SINGLE_OBJECT_MAGIC[0] ||
      bytes[1] !== SINGLE_OBJECT_MAGIC[1]
    ) {
      throw decodeError(
        `bad magic ${bytes.subarray(0, 2).toString("hex")}, expected c301 (Avro single-object encoding)`,
        bytes,
      );
    }
    const writerFp = bytes.readBigUInt64LE(2);
    const writer =
      writerFp === fingerprint ? type : store.byFingerprint(writerFp);
    const label = `fingerprint ${writerFp.toString(16).padStart(16, "0")}`;
    if (writer === undefined) {
      throw decodeError(
        `unknown writer schema ${label}: register that version in the schema store`,
        bytes,
      );
    }
    return decodeBody(
      type,
      writer,
      resolvers.get(writer, `${nameOf(writer)} (${label})`, bytes),
      bytes,
      SINGLE_OBJECT_HEADER,
    ) as T;
  };

  return {
    schemaName: nameOf(type),
    fingerprint,
    type,
    encode(value: T): Buffer {
      validate(type, value);
      return Buffer.concat([header, type.toBuffer(value)]);
    },
    decode,
    tryDecode: (bytes) => asDecodeResult(() => decode(bytes)),
  };
}

function confluentCodec<T>(
  schema: SchemaInput,
  options: ResolvedConfluentOptions,
): AsyncCodec<T> {
  const { store, registry, autoRegister } = options;
  const type = readerType(schema, store);
  const subject = options.subject ?? nameOf(type);
  // The schema as written (all attributes a reader needs), self-contained; same fingerprint.
  const schemaText = JSON.stringify(store.schemaJson(type));
  const resolvers = new Resolvers(type);
  let ownId: Promise<number> | undefined;
  const writers = new Map<number, Promise<avsc.Type | undefined>>();

  const idForEncode = async (): Promise<number> => {
    const id = autoRegister
      ? await registry.register(subject, schemaText)
      : await registry.getIdBySchema(subject, schemaText);
    if (id === undefined) {
      throw new SluiceError(
        "NOT_FOUND",
        `schema ${nameOf(type)} is not registered under subject ${subject} and autoRegister is off`,
      );
    }
    return id;
  };

  const writerById = (id: number): Promise<avsc.Type | undefined> => {
    let pending = writers.get(id);
    if (pending === undefined) {
      pending = registry.getById(id).then(
        (text) => store.register(JSON.parse(text) as AvroSchemaJson),
        (error: unknown) => {
          writers.delete(id);
          if (error instanceof SluiceError && error.code === "NOT_FOUND")
            return undefined;
          throw error;
        },
      );
      writers.set(id, pending);
    }
    return pending;
  };

  const decode = async (input: Uint8Array): Promise<T> => {
    const bytes = toBuffer(input);
    if (bytes.length < CONFLUENT_HEADER) {
      throw decodeError(
        `truncated Confluent header: ${bytes.length} bytes, need at least ${CONFLUENT_HEADER}`,
        bytes,
      );
    }
    if (bytes[0] !== CONFLUENT_MAGIC) {
      throw decodeError(
        `bad magic ${bytes.subarray(0, 1).toString("hex")}, expected 00 (Confluent wire format)`,
        bytes,
      );
    }
    const id = bytes.readUInt32BE(1);
    let writer: avsc.Type | undefined;
    try {
      writer = await writerById(id);
    } catch (cause) {
      if (cause instanceof SluiceError) throw cause;
      throw decodeError(
        `schema id ${id} from the registry is not a valid Avro schema: ${(cause as Error).message}`,
        bytes,
        cause,
      );
    }
    if (writer === undefined)
      throw decodeError(
        `unknown schema id ${id}: the registry does not have it`,
        bytes,
      );
    return decodeBody(
      type,
      writer,
      resolvers.get(writer, `${nameOf(writer)} (id ${id})`, bytes),
      bytes,
      CONFLUENT_HEADER,
    ) as T;
  };

  return {
    schemaName: nameOf(type),
    fingerprint: fingerprintOf(type),
    type,
    async encode(value: T): Promise<Buffer> {
      validate(type, value);
      const body = type.toBuffer(value);
      ownId ??= idForEncode().catch((error: unknown) => {
        ownId = undefined;
        throw error;
      });
      const header = Buffer.alloc(CONFLUENT_HEADER);
      header[0] = CONFLUENT_MAGIC;
      header.writeUInt32BE(await ownId, 1);
      return Buffer.concat([header, body]);
    },
    decode,
    async tryDecode(bytes: Uint8Array): Promise<DecodeResult<T>> {
      try {
        return { ok: true, value: await decode(bytes) };
      } catch (error) {
        if (error instanceof SluiceError && error.code === "DECODE")
          return { ok: false, error };
        throw error;
      }
    },
  };
}
