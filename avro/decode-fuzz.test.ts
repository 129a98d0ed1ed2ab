import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SluiceError } from "./internal/sluice-error.js";
import { createCodec, type Codec } from "./codec.js";
import type { LongMode } from "./longs.js";
import { SchemaStore } from "./schema-store.js";
import { writeZigZag } from "./longs.js";

/** The only acceptable outcomes of decoding any bytes: a value, or Sluice's typed DECODE error. */
function decodesOrRefuses(codec: Codec<unknown>, bytes: Uint8Array): void {
  const result = codec.tryDecode(bytes);
  if (!result.ok) {
    expect(result.error).toBeInstanceOf(SluiceError);
    expect(result.error.code).toBe("DECODE");
  }
}

const stores: Record<LongMode, SchemaStore> = {
  number: SchemaStore.load(),
  bigint: SchemaStore.load().withLongs("bigint"),
};

/** One valid frame per schema, from a fixed random value that validates. */
function samples(mode: LongMode): { codec: Codec<unknown>; frame: Buffer }[] {
  const store = stores[mode];
  const out: { codec: Codec<unknown>; frame: Buffer }[] = [];
  for (const name of store.names()) {
    const codec = createCodec<unknown>(name, { store });
    for (let i = 0; i < 20; i++) {
      const value: unknown = codec.type.random();
      if (codec.type.isValid(value)) {
        out.push({ codec, frame: codec.encode(value) });
        break;
      }
    }
  }
  return out;
}

describe.each(["number", "bigint"] as const)(
  "decoder fuzz (longs: %s): only DECODE errors, never a crash or a runaway allocation",
  (mode) => {
    const frames = samples(mode);

    it("has a valid frame for most schemas to mutate", () => {
      expect(frames.length).toBeGreaterThan(10);
    });

    it("survives every truncation of every valid frame", () => {
      for (const { codec, frame } of frames)
        for (let n = 0; n < frame.length; n++)
          decodesOrRefuses(codec, frame.subarray(0, n));
    });

    it("survives random bit flips and random bodies behind a valid header", () => {
      fc.assert(
        fc.property(
          fc.nat({ max: frames.length - 1 }),
          fc.array(fc.nat(), { minLength: 1, maxLength: 4 }),
          fc.uint8Array({ maxLength: 64 }),
          (which, flips, tail) => {
            const { codec, frame } = frames[which]!;
            const flipped = Buffer.from(frame);
            for (const f of flips) {
              const bit = f % (flipped.length * 8);
              flipped[bit >> 3]! ^= 1 << (bit & 7);
            }
            decodesOrRefuses(codec, flipped);
            decodesOrRefuses(
              codec,
              Buffer.concat([frame.subarray(0, 10), Buffer.from(tail)]),
            );
          },
        ),
        { numRuns: 1500 },
      );
    });

    it("refuses huge declared lengths and counts without allocating them", () => {
      for (const { codec, frame } of frames) {
        // after the header, a body that starts with a varint claiming 2^62 (string length,
        // array count, map count or a long, whichever the schema reads first)
        for (const huge of [2n ** 62n, 2n ** 31n, -(2n ** 62n)]) {
          const bytes = Buffer.concat([
            frame.subarray(0, 10),
            writeZigZag(huge),
            frame.subarray(10),
          ]);
          decodesOrRefuses(codec, bytes);
        }
      }
      const before = process.memoryUsage().heapUsed;
      const arrays = createCodec<unknown>(
        { type: "array", items: { type: "array", items: "null" } },
        { store: stores[mode] },
      );
      const frame = arrays.encode([]);
      const claim = Buffer.concat([
        frame.subarray(0, 10),
        writeZigZag(2n ** 40n),
        writeZigZag(2n ** 40n),
      ]);
      expect(arrays.tryDecode(claim).ok).toBe(false);
      // nothing near 2^40 items was allocated (a generous bound, not a timing)
      expect(process.memoryUsage().heapUsed - before).toBeLessThan(
        256 * 2 ** 20,
      );
    });
  },
);
