/**
 * avsc decodes an Avro `map` into a plain `{}`, so a key `__proto__` is dropped or, with a
 * record value, becomes the decoded object's prototype. This map type decodes into an object
 * without a prototype, where every key is an ordinary own property.
 */
import avsc from "avsc";

interface MapTap {
  readLong(): number;
  skipLong(): void;
  readString(): string;
}

interface ValuesType {
  _read(tap: MapTap): unknown;
}

const MapBase = avsc.types.MapType as unknown as new (
  schema: avsc.Schema,
  opts?: unknown,
) => { readonly valuesType: ValuesType };

/** avsc's `map`, decoding into `Object.create(null)`. @internal */
export class NullPrototypeMapType extends MapBase {
  // Also used by the resolver avsc builds for a map writer (it copies `_read`).
  _read(tap: MapTap): unknown {
    const values = this.valuesType;
    const out = Object.create(null) as { [key: string]: unknown };
    for (;;) {
      let n = tap.readLong();
      if (n === 0) return out;
      if (n < 0) {
        n = -n;
        tap.skipLong();
      }
      while (n-- > 0) {
        const key = tap.readString();
        out[key] = values._read(tap);
      }
    }
  }
}
