import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SluiceError } from "./internal/sluice-error.js";
import { createCodec } from "./codec.js";
import { readZigZag, writeZigZag } from "./longs.js";
import { SchemaStore } from "./schema-store.js";

// Zig-zag varint bodies computed independently (Python: u = (n << 1) ^ (n >> 63), 7-bit groups).
const EDGES: readonly (readonly [bigint, string])[] = [
  [-4503599627370497n, "8180808080808010"], // −(2^52+1): avsc's built-in long wrote 8080808080808010
  [-(2n ** 63n), "ffffffffffffffffff01"],
  [2n ** 63n - 1n, "feffffffffffffffff01"],
  [2n ** 53n, "8080808080808020"],
];

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

const Ledger = {
  type: "record",
  name: "Ledger",
  namespace: "dev.sluice.test.longs",
  fields: [
    { name: "id", type: "long" },
    { name: "count", type: "int" },
    { name: "maybe", type: ["null", "long"], default: null },
    { name: "at", type: { type: "long", logicalType: "timestamp-millis" } },
  ],
} as const;

interface Ledger<L> {
  id: L;
  count: number;
  maybe: L | null;
  at: Date;
}

function failure(fn: () => unknown, code: string): SluiceError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(SluiceError);
    expect((error as SluiceError).code).toBe(code);
    return error as SluiceError;
  }
  throw new Error(`expected a ${code} error`);
}

const store = SchemaStore.load();
const exact = createCodec<Ledger<bigint>>(Ledger, {
  store,
  longs: "bigint",
});
const safe = createCodec<Ledger<number>>(Ledger, { store });
const at = new Date("1969-12-31T23:59:59.999Z");

/** The single-object body of a Ledger whose id is written as the given varint. */
function frameWithId(varintHex: string): Buffer {
  const probe = safe.encode({ id: 0, count: 1, maybe: null, at });
  return Buffer.concat([
    probe.subarray(0, 10),
    Buffer.from(varintHex, "hex"),
    probe.subarray(11),
  ]);
}

describe('longs: "bigint"', () => {
  it.each(EDGES)(
    "encodes %s to the zig-zag body %s and decodes it back exactly",
    (n, hex) => {
      const frame = exact.encode({ id: n, count: -1, maybe: n, at });
      // body: id varint, count (-1 → 01), union branch 1 (02), the long again, at (-1 ms → 01)
      expect(frame.subarray(10).toString("hex")).toBe(`${hex}0102${hex}01`);
      expect(exact.decode(frame)).toEqual({
        id: n,
        count: -1,
        maybe: n,
        at,
      });
    },
  );

  it("round-trips every signed 64-bit value, and agrees byte for byte with number mode on safe integers", () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
        (n) => {
          const frame = exact.encode({ id: n, count: 0, maybe: null, at });
          expect(exact.decode(frame).id).toBe(n);
          const bytes = writeZigZag(n);
          expect(readZigZag(bytes).toString()).toBe(n.toString());
        },
      ),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.maxSafeInteger(), (n) => {
        expect(writeZigZag(n)).toEqual(writeZigZag(BigInt(n)));
        expect(
          safe.decode(safe.encode({ id: n, count: 0, maybe: n, at })).id,
        ).toBe(n);
      }),
      { numRuns: 2000 },
    );
  });

  it("refuses a bigint outside the 64-bit range on encode, naming the field", () => {
    const error = failure(
      () => exact.encode({ id: 2n ** 63n, count: 0, maybe: null, at }),
      "VALIDATE",
    );
    expect(error.message).toContain("id: expected long (a bigint");
  });
});

describe('longs: "number" (the default)', () => {
  it("no longer flips the sign of negatives in −(2^53−2)…−(2^52+1)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -(2 ** 53 - 2), max: -(2 ** 52 + 1) }),
        (n) => {
          const frame = safe.encode({ id: n, count: 0, maybe: null, at });
          expect(frame.subarray(10)).toEqual(
            exact
              .encode({ id: BigInt(n), count: 0, maybe: null, at })
              .subarray(10),
          );
          expect(safe.decode(frame).id).toBe(n);
        },
      ),
      { numRuns: 2000 },
    );
    expect(
      safe
        .encode({ id: -4503599627370497, count: 0, maybe: null, at })
        .subarray(10, 18)
        .toString("hex"),
    ).toBe("8180808080808010");
  });

  it("round-trips ±(2^53−1) and −(2^52+1)", () => {
    for (const n of [
      Number.MAX_SAFE_INTEGER,
      Number.MIN_SAFE_INTEGER,
      -4503599627370497,
    ]) {
      expect(
        safe.decode(safe.encode({ id: n, count: 0, maybe: n, at })).id,
      ).toBe(n);
    }
  });

  it.each(EDGES.filter(([n]) => n < -MAX_SAFE || n > MAX_SAFE))(
    "refuses %s clearly: VALIDATE on encode, DECODE on a frame that holds it",
    (n, hex) => {
      const encodeError = failure(
        () => safe.encode({ id: Number(n), count: 0, maybe: null, at }),
        "VALIDATE",
      );
      expect(encodeError.message).toContain("id: expected long");
      expect(encodeError.message).toMatch(/beyond ±\(2\^53−1\)/);
      const bigintError = failure(
        () =>
          safe.encode({
            id: n as unknown as number,
            count: 0,
            maybe: null,
            at,
          }),
        "VALIDATE",
      );
      expect(bigintError.message).toContain('use longs: "bigint"');
      const decodeError = failure(
        () => safe.decode(frameWithId(hex)),
        "DECODE",
      );
      expect(decodeError.message).toMatch(
        /long beyond ±\(2\^53−1\).*longs: "bigint"/,
      );
    },
  );
});

describe("varint and int checks on decode", () => {
  it("refuses an int field holding a value beyond 32 bits", () => {
    const good = safe.encode({ id: 1, count: 7, maybe: null, at });
    // count is the byte after the 1-byte id; 2^31 zig-zags to 8080808010
    const frame = Buffer.concat([
      good.subarray(0, 11),
      Buffer.from("8080808010", "hex"),
      good.subarray(12),
    ]);
    const error = failure(() => safe.decode(frame), "DECODE");
    expect(error.message).toContain("outside the 32-bit range");
    // the 32-bit edges themselves decode
    for (const count of [2 ** 31 - 1, -(2 ** 31)]) {
      expect(
        safe.decode(safe.encode({ id: 1, count, maybe: null, at })).count,
      ).toBe(count);
    }
  });

  it("refuses a long varint of 11 bytes or one that overflows 64 bits", () => {
    failure(
      () => exact.decode(frameWithId("ffffffffffffffffff8101")),
      "DECODE",
    );
    const overflow = failure(
      () => exact.decode(frameWithId("ffffffffffffffffff02")),
      "DECODE",
    );
    expect(overflow.message).toContain("overflows 64 bits");
  });

  it("decodes timestamp-millis to a Date in bigint mode too, and refuses one no Date can hold", () => {
    const frame = exact.encode({ id: 1n, count: 0, maybe: null, at });
    expect(exact.decode(frame).at).toEqual(at);
    const far = Buffer.concat([
      frame.subarray(0, frame.length - 1),
      writeZigZag(2n ** 62n),
    ]);
    expect(failure(() => exact.decode(far), "DECODE").message).toContain(
      "outside the range of a JS Date",
    );
  });
});
