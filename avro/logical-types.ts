/**
 * Logical types Sluice uses on the wire, implemented over avsc's `LogicalType` hooks:
 * `timestamp-millis` ↔ `Date`, `uuid` ↔ canonical lower-case string, `decimal` (bytes) ↔ a
 * decimal string such as `"19.90"` (exact; never a float).
 */
import avsc from "avsc";
import { numericTypeHook, type LongMode } from "./longs.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DECIMAL = /^(-)?(\d+)(?:\.(\d+))?$/;

/** The largest epoch-millis magnitude a `Date` can hold (±100,000,000 days). */
const MAX_DATE_MS = 8.64e15;

/** `timestamp-millis` over `long`: decoded as a `Date`, encoded from a `Date` or epoch millis. */
class TimestampMillisType extends avsc.types.LogicalType {
  protected override _fromValue(value: unknown): unknown {
    if (value instanceof Date) return value;
    // undefined: the body ran out; the codec reports the truncation.
    if (value === undefined) return new Date(NaN);
    const ms = Number(value);
    if (!(Math.abs(ms) <= MAX_DATE_MS))
      throw new RangeError(
        `timestamp-millis ${ms} is outside the range of a JS Date (±8.64e15 ms)`,
      );
    return new Date(ms);
  }
  protected override _toValue(value: unknown): unknown {
    if (value instanceof Date)
      return Number.isNaN(value.getTime()) ? undefined : value.getTime();
    if (typeof value === "bigint") return value;
    return typeof value === "number" && Number.isSafeInteger(value)
      ? value
      : undefined;
  }
  protected override _resolve(writer: avsc.Type): unknown {
    if (avsc.Type.isType(writer, "logical:timestamp-millis"))
      return (v: unknown) => v;
    if (avsc.Type.isType(writer, "long", "abstract:long", "int"))
      return (v: unknown) => this._fromValue(v);
    return undefined;
  }
}

/** `uuid` over `string`: validated on encode, passed through as a string. */
class UuidType extends avsc.types.LogicalType {
  protected override _fromValue(value: unknown): unknown {
    return value;
  }
  protected override _toValue(value: unknown): unknown {
    return typeof value === "string" && UUID.test(value) ? value : undefined;
  }
  protected override _resolve(writer: avsc.Type): unknown {
    return avsc.Type.isType(writer, "string", "logical:uuid")
      ? (v: unknown) => v
      : undefined;
  }
}

/** `decimal` over `bytes` (two's-complement big-endian unscaled value), as an exact string. */
class DecimalType extends avsc.types.LogicalType {
  private readonly precision: number;
  private readonly scale: number;

  constructor(schema: avsc.Schema, opts?: unknown) {
    super(schema, opts);
    const attrs = schema as { precision?: unknown; scale?: unknown };
    this.precision = typeof attrs.precision === "number" ? attrs.precision : 0;
    this.scale = typeof attrs.scale === "number" ? attrs.scale : 0;
    if (!Number.isInteger(this.precision) || this.precision < 1)
      throw new Error("decimal precision must be a positive integer");
    if (
      !Number.isInteger(this.scale) ||
      this.scale < 0 ||
      this.scale > this.precision
    ) {
      throw new Error(
        "decimal scale must be an integer between 0 and the precision",
      );
    }
  }

  /** Keeps `precision` and `scale` in exported schemas (avsc drops unknown attributes). */
  protected override _export(schema: avsc.Schema): void {
    const out = schema as { precision?: number; scale?: number };
    out.precision = this.precision;
    out.scale = this.scale;
  }

  protected override _fromValue(value: unknown): unknown {
    const bytes = value as Buffer;
    let unscaled = 0n;
    for (const byte of bytes) unscaled = (unscaled << 8n) | BigInt(byte);
    if (bytes.length > 0 && (bytes[0] ?? 0) & 0x80)
      unscaled -= 1n << BigInt(bytes.length * 8);
    const negative = unscaled < 0n;
    const digits = (negative ? -unscaled : unscaled)
      .toString()
      .padStart(this.scale + 1, "0");
    const whole = digits.slice(0, digits.length - this.scale);
    const fraction = digits.slice(digits.length - this.scale);
    return `${negative ? "-" : ""}${whole}${this.scale > 0 ? `.${fraction}` : ""}`;
  }

  protected override _toValue(value: unknown): unknown {
    if (typeof value !== "string") return undefined;
    const match = DECIMAL.exec(value);
    if (!match) return undefined;
    const fraction = match[3] ?? "";
    if (fraction.length > this.scale) return undefined;
    const digits =
      `${match[2] ?? ""}${fraction.padEnd(this.scale, "0")}`.replace(
        /^0+(?=\d)/,
        "",
      );
    if (digits.length > this.precision) return undefined;
    let unscaled = BigInt(digits);
    if (match[1] === "-") unscaled = -unscaled;
    return toTwosComplement(unscaled);
  }

  protected override _resolve(writer: avsc.Type): unknown {
    if (writer instanceof DecimalType && writer.scale === this.scale)
      return (v: unknown) => v;
    return avsc.Type.isType(writer, "bytes")
      ? (v: unknown) => this._fromValue(v)
      : undefined;
  }
}

function toTwosComplement(value: bigint): Buffer {
  let length = 1;
  while (
    value < -(1n << BigInt(length * 8 - 1)) ||
    value >= 1n << BigInt(length * 8 - 1)
  )
    length++;
  const out = Buffer.alloc(length);
  let v = BigInt.asUintN(length * 8, value);
  for (let i = length - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

/**
 * The logical-type implementations to pass to avsc's `Type.forSchema({ logicalTypes })`.
 * Unknown logical types (e.g. `date`) fall back to their underlying type, as the spec asks.
 *
 * @example
 * ```ts
 * const type = avsc.Type.forSchema(schema, { logicalTypes: sluiceLogicalTypes });
 * ```
 */
export const sluiceLogicalTypes: Readonly<
  Record<
    string,
    new (schema: avsc.Schema, opts?: unknown) => avsc.types.LogicalType
  >
> = {
  "timestamp-millis": TimestampMillisType,
  uuid: UuidType,
  decimal: DecimalType,
};

/**
 * The `Type.forSchema` options every Sluice parse uses: the logical types above, and the
 * exact `long` (of the given mode) and 32-bit-checked `int` of `longs.ts`.
 *
 * @example
 * ```ts
 * const type = avsc.Type.forSchema(schema, avroParseOptions("bigint"));
 * ```
 */
export function avroParseOptions(mode: LongMode = "number"): {
  readonly logicalTypes: typeof sluiceLogicalTypes;
  readonly typeHook: (
    schema: avsc.Schema,
    opts: unknown,
  ) => avsc.Type | undefined;
} {
  return {
    logicalTypes: sluiceLogicalTypes,
    typeHook: numericTypeHook(mode, new Set(Object.keys(sluiceLogicalTypes))),
  };
}
