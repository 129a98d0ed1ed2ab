/**
 * A pre-decode walk over Avro binary data that checks every length and block count against
 * the bytes that remain. avsc trusts block counts: a 15-byte frame claiming an array of 2^28
 * ints makes it allocate until the process dies. Walking the writer schema first turns such
 * frames into a decode error. Only schemas with arrays or maps need the walk.
 */
import type avsc from "avsc";

/** Most items of a zero-byte type (null, empty record) one block may claim. */
const MAX_ZERO_SIZE_ITEMS = 1_000_000;

/** Thrown by the walk; the codec turns it into a `DECODE` error. */
export class BoundsError extends Error {
  override readonly name = "BoundsError";
}

interface AnyType {
  readonly typeName: string;
  readonly fields?: readonly {
    readonly name: string;
    readonly type: AnyType;
  }[];
  readonly itemsType?: AnyType;
  readonly valuesType?: AnyType;
  readonly types?: readonly AnyType[];
  readonly symbols?: readonly string[];
  readonly size?: number;
  readonly underlyingType?: AnyType;
}

class Cursor {
  constructor(
    readonly buf: Buffer,
    public pos: number,
  ) {}

  remaining(): number {
    return this.buf.length - this.pos;
  }

  skip(n: number, what: string): void {
    if (n > this.remaining())
      throw new BoundsError(
        `${what} needs ${n} bytes but only ${this.remaining()} remain`,
      );
    this.pos += n;
  }

  long(what: string): number {
    let result = 0;
    let shift = 1;
    for (let i = 0; i < 10; i++) {
      const byte = this.buf[this.pos];
      if (byte === undefined)
        throw new BoundsError(`${what} runs past the end of the frame`);
      this.pos++;
      result += (byte & 0x7f) * shift;
      if ((byte & 0x80) === 0)
        return result % 2 === 0 ? result / 2 : -(result + 1) / 2;
      shift *= 128;
    }
    throw new BoundsError(`${what} is a varint longer than 10 bytes`);
  }
}

function minSize(type: AnyType, seen = new Set<AnyType>()): number {
  switch (type.typeName) {
    case "null":
      return 0;
    case "fixed":
      return type.size ?? 0;
    case "record":
    case "error": {
      if (seen.has(type)) return 1;
      seen.add(type);
      return (type.fields ?? []).reduce(
        (sum, f) => sum + minSize(f.type, seen),
        0,
      );
    }
    default:
      if (type.typeName.startsWith("logical:") && type.underlyingType)
        return minSize(type.underlyingType, seen);
      return 1;
  }
}

/**
 * Whether a type contains an array or a map anywhere (the only places counts come from).
 *
 * @example
 * ```ts
 * if (hasBlocks(writer)) checkBounds(writer, bytes, 10);
 * ```
 */
export function hasBlocks(type: avsc.Type): boolean {
  const seen = new Set<AnyType>();
  const visit = (t: AnyType): boolean => {
    if (seen.has(t)) return false;
    seen.add(t);
    if (t.typeName === "array" || t.typeName === "map") return true;
    if (t.underlyingType && visit(t.underlyingType)) return true;
    if (t.types?.some(visit)) return true;
    return t.fields?.some((f) => visit(f.type)) ?? false;
  };
  return visit(type);
}

function walk(type: AnyType, c: Cursor, path: string): void {
  switch (type.typeName) {
    case "null":
      return;
    case "boolean":
      return c.skip(1, path);
    case "int":
    case "long":
    case "abstract:long":
      c.long(path);
      return;
    case "float":
      return c.skip(4, path);
    case "double":
      return c.skip(8, path);
    case "bytes":
    case "string": {
      const length = c.long(`${path} length`);
      if (length < 0)
        throw new BoundsError(`${path} has negative length ${length}`);
      return c.skip(length, path);
    }
    case "fixed":
      return c.skip(type.size ?? 0, path);
    case "enum": {
      const index = c.long(path);
      if (index < 0 || index >= (type.symbols?.length ?? 0))
        throw new BoundsError(`${path} has enum index ${index} out of range`);
      return;
    }
    case "record":
    case "error":
      for (const field of type.fields ?? [])
        walk(field.type, c, path === "" ? field.name : `${path}.${field.name}`);
      return;
    case "array":
    case "map": {
      const isMap = type.typeName === "map";
      const item = (isMap ? type.valuesType : type.itemsType) as AnyType;
      const itemMin = minSize(item) + (isMap ? 1 : 0);
      for (;;) {
        let count = c.long(`${path} block count`);
        if (count === 0) return;
        if (count < 0) {
          count = -count;
          c.long(`${path} block size`);
        }
        if (
          itemMin > 0
            ? count * itemMin > c.remaining()
            : count > MAX_ZERO_SIZE_ITEMS
        ) {
          throw new BoundsError(
            `${path || "value"} claims ${count} items but only ${c.remaining()} bytes remain`,
          );
        }
        for (let i = 0; i < count; i++) {
          if (isMap) walk({ typeName: "string" }, c, `${path} key`);
          walk(item, c, `${path}[${i}]`);
        }
      }
    }
    default: {
      if (type.typeName.startsWith("union")) {
        const index = c.long(`${path} union index`);
        const branch = type.types?.[index];
        if (branch === undefined)
          throw new BoundsError(
            `${path || "value"} has union index ${index} out of range`,
          );
        return walk(branch, c, path);
      }
      if (type.underlyingType) return walk(type.underlyingType, c, path);
      throw new BoundsError(`cannot check ${type.typeName}`);
    }
  }
}

/**
 * Walks one encoded value of `type` starting at `pos`, throwing {@link BoundsError} when a
 * length, count, enum or union index cannot be right for the bytes present.
 *
 * @example
 * ```ts
 * checkBounds(writer, frame, 10); // throws BoundsError("xs claims 268435456 items but only 0 bytes remain")
 * ```
 */
export function checkBounds(type: avsc.Type, buf: Buffer, pos: number): void {
  walk(type, new Cursor(buf, pos), "");
}
