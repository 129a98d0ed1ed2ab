/**
 * Avro `long` and `int` at their full range. avsc's built-in long does zig-zag arithmetic in
 * doubles: it refuses longs beyond ±(2^53−2) and silently flips the sign of negatives in
 * −(2^53−2)…−(2^52+1) on encode and decode. Its int reads any varint. These types replace
 * both, through avsc's documented custom-long hook (`LongType.__with`, raw varint bytes) and a
 * `typeHook`:
 *
 * - `long`, mode `"number"` (default): a JS `number`, exact in ±(2^53−1); a frame holding a
 *   long outside that range fails to decode (never rounds), encoding one is refused.
 * - `long`, mode `"bigint"`: decodes to `bigint`, exact over the whole signed 64-bit range;
 *   encodes a `bigint` in range or a safe-integer `number`.
 * - `int`: decoding checks the value fits 32 bits.
 */
import avsc from "avsc";
import { NullPrototypeMapType } from "./internal/maps.js";

/**
 * How Avro `long` values appear in JavaScript.
 *
 * @example
 * ```ts
 * const codec = createCodec<Ledger>("dev.sluice.Ledger", { longs: "bigint" });
 * ```
 */
export type LongMode = "number" | "bigint";

/**
 * A long (or int) in the frame cannot be represented; the codec maps it to `DECODE`.
 *
 * @example
 * ```ts
 * readZigZag(Buffer.alloc(11, 0xff)); // throws AvroRangeError("long varint is 11 bytes, at most 10")
 * ```
 */
export class AvroRangeError extends Error {
  override readonly name = "AvroRangeError";
}

const MIN_LONG = -(1n << 63n);
const MAX_LONG = (1n << 63n) - 1n;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
/** Below this magnitude the zig-zag value 2|n| is exact in a double. */
const NUMBER_FAST_LIMIT = 2 ** 51;

/**
 * Decodes the raw bytes of one zig-zag varint exactly (a `number` for up to 7 bytes, else a
 * `bigint`). Throws {@link AvroRangeError} for more than 10 bytes or a
 * value beyond 64 bits.
 *
 * @example
 * ```ts
 * readZigZag(Buffer.from("8180808080808010", "hex")); // -4503599627370497n
 * ```
 */
export function readZigZag(buf: Uint8Array): number | bigint {
  const length = buf.length;
  if (length > 10)
    throw new AvroRangeError(`long varint is ${length} bytes, at most 10`);
  if (length === 10 && (buf[9] ?? 0) > 1)
    throw new AvroRangeError("long varint overflows 64 bits");
  if (length <= 7) {
    // At most 49 bits: exact in a double.
    let u = 0;
    let scale = 1;
    for (let i = 0; i < length; i++) {
      u += ((buf[i] ?? 0) & 0x7f) * scale;
      scale *= 128;
    }
    return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
  }
  let u = 0n;
  for (let i = length - 1; i >= 0; i--)
    u = (u << 7n) | BigInt((buf[i] ?? 0) & 0x7f);
  return (u >> 1n) ^ -(u & 1n);
}

/**
 * Encodes an integer (a safe `number` or a `bigint` in the signed 64-bit range) as a zig-zag
 * varint, exactly.
 *
 * @example
 * ```ts
 * writeZigZag(-4503599627370497n).toString("hex"); // "8180808080808010"
 * ```
 */
export function writeZigZag(n: number | bigint): Buffer {
  const out: number[] = [];
  if (typeof n === "number" && Math.abs(n) <= NUMBER_FAST_LIMIT) {
    let u = n >= 0 ? n * 2 : -n * 2 - 1;
    while (u >= 128) {
      out.push((u % 128) | 0x80);
      u = Math.floor(u / 128);
    }
    out.push(u);
    return Buffer.from(out);
  }
  const b = BigInt(n);
  let u = BigInt.asUintN(64, (b << 1n) ^ (b >> 63n));
  while (u >= 128n) {
    out.push(Number(u & 0x7fn) | 0x80);
    u >>= 7n;
  }
  out.push(Number(u));
  return Buffer.from(out);
}

const compare = (a: number | bigint, b: number | bigint): number =>
  a < b ? -1 : a > b ? 1 : 0;

const isLong = (v: unknown): v is bigint =>
  typeof v === "bigint" && v >= MIN_LONG && v <= MAX_LONG;

/** The `long` of mode `"number"`: exact safe integers, loud failure outside ±(2^53−1). */
const safeNumberLong: avsc.Type = avsc.types.LongType.__with(
  {
    fromBuffer(buf: Buffer): number {
      const v = readZigZag(buf);
      if (typeof v === "number") return v;
      if (v < -MAX_SAFE || v > MAX_SAFE)
        throw new AvroRangeError(
          'long beyond ±(2^53−1) cannot be a JS number exactly; decode with longs: "bigint"',
        );
      return Number(v);
    },
    toBuffer: (n: number): Buffer => writeZigZag(n),
    fromJSON: (v: unknown): number => (typeof v === "number" ? v : Number(v)),
    toJSON: (n: number): number => n,
    isValid: (v: unknown): boolean => Number.isSafeInteger(v),
    compare,
  },
  true,
);

/** The `long` of mode `"bigint"`: the whole signed 64-bit range. */
const bigintLong: avsc.Type = avsc.types.LongType.__with(
  {
    fromBuffer(buf: Buffer): bigint {
      return BigInt(readZigZag(buf));
    },
    toBuffer: (n: number | bigint): Buffer => writeZigZag(n),
    fromJSON: (v: unknown): bigint =>
      BigInt(v as string | number | bigint | boolean),
    toJSON: (n: number | bigint): number | string =>
      Number.isSafeInteger(Number(n)) ? Number(n) : String(n),
    isValid: (v: unknown): boolean => isLong(v) || Number.isSafeInteger(v),
    compare,
  },
  true,
);

interface IntTap {
  readonly buf: Buffer;
  pos: number;
  readInt(): number;
}

const IntBase = avsc.types.IntType as unknown as new () => object;

/** avsc's `int`, whose decode also checks that the value fits 32 bits. */
class CheckedIntType extends IntBase {
  _read(tap: IntTap): number {
    const start = tap.pos;
    const n = tap.readInt();
    if (n !== (n | 0) && tap.pos <= tap.buf.length) {
      throw new AvroRangeError(
        `int varint at byte ${start} is outside the 32-bit range`,
      );
    }
    return n;
  }
}
const checkedInt = new CheckedIntType() as unknown as avsc.Type;

/** Logical types whose constructor avsc calls with the same schema object a second time. */
type Pending = WeakSet<object>;

/**
 * A `typeHook` for `Type.forSchema` that puts Sluice's `long` (of the given mode) and checked
 * `int` in place of avsc's, decodes maps into objects without a prototype (no key is
 * special), and refuses a record field named `__proto__` (avsc records cannot hold it). `logicalOverLong` names the logical types implemented over `long`:
 * for those, avsc asks the hook once for the logical type (left to avsc) and once more for its
 * underlying type.
 *
 * @example
 * ```ts
 * avsc.Type.forSchema(schema, { typeHook: numericTypeHook("bigint", new Set(["timestamp-millis"])) });
 * ```
 */
export function numericTypeHook(
  mode: LongMode,
  logicalTypes: ReadonlySet<string>,
): (schema: avsc.Schema, opts: unknown) => avsc.Type | undefined {
  const long = mode === "bigint" ? bigintLong : safeNumberLong;
  const pending: Pending = new WeakSet();
  return (schema, opts) => {
    if (schema === "long") return long;
    if (schema === "int") return checkedInt;
    if (typeof schema !== "object" || schema === null || Array.isArray(schema))
      return undefined;
    const node = schema as {
      type?: unknown;
      logicalType?: unknown;
      fields?: unknown;
    };
    if (node.type === "map" && node.logicalType === undefined)
      return new NullPrototypeMapType(schema, opts) as unknown as avsc.Type;
    if (
      (node.type === "record" || node.type === "error") &&
      Array.isArray(node.fields) &&
      node.fields.some((f) => (f as { name?: unknown }).name === "__proto__")
    )
      throw new Error(
        "a record field named __proto__ cannot be represented (avsc records are plain JS objects); rename it",
      );
    if (node.type !== "long" && node.type !== "int") return undefined;
    if (
      typeof node.logicalType === "string" &&
      logicalTypes.has(node.logicalType) &&
      !pending.has(node)
    ) {
      pending.add(node);
      return undefined;
    }
    pending.delete(node);
    return node.type === "long" ? long : checkedInt;
  };
}

/**
 * Whether a type is one of the `long` types of {@link numericTypeHook} (or avsc's own).
 *
 * @example
 * ```ts
 * isLongType(store.type("dev.sluice.reviews.Review").field("movieId")!.type); // true
 * ```
 */
export function isLongType(type: avsc.Type): boolean {
  return type.typeName === "long" || type.typeName === "abstract:long";
}
