import { randomUUID } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SluiceError } from "./internal/sluice-error.js";
import { createCodec } from "./codec.js";
import { crc64Avro } from "./crc64.js";
import { SchemaStore } from "./schema-store.js";

interface Review {
  reviewId: string;
  movieId: number;
  userId: number;
  rating: number;
  text: string | null;
  createdAt: Date;
  updatedAt: Date;
  version: number;
}

const review: Review = {
  reviewId: "0b7e7dc4-3a8c-4c31-9a3f-0f3f1e2d5c11",
  movieId: 603,
  userId: 42,
  rating: 4.5,
  text: "Still holds up.",
  createdAt: new Date("2024-05-01T10:00:00.000Z"),
  updatedAt: new Date("2024-05-01T10:05:00.000Z"),
  version: 2,
};

function decodeFailure(fn: () => unknown): SluiceError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(SluiceError);
    expect((error as SluiceError).code).toBe("DECODE");
    return error as SluiceError;
  }
  throw new Error("expected a DECODE error");
}

describe("createCodec (single-object encoding)", () => {
  const codec = createCodec<Review>("dev.sluice.reviews.Review");

  it("round-trips a record, logical types included", () => {
    expect(codec.decode(codec.encode(review))).toEqual(review);
  });

  it("frames as c3 01 + little-endian CRC-64-AVRO of the writer's canonical form + body", () => {
    const frame = codec.encode(review);
    expect(frame.subarray(0, 2)).toEqual(Buffer.from([0xc3, 0x01]));
    expect(frame.readBigUInt64LE(2)).toBe(
      crc64Avro(JSON.stringify(codec.type.schema())),
    );
    expect(frame.subarray(10)).toEqual(codec.type.toBuffer(review));
  });

  it('encodes a primitive schema with the spec\'s fingerprint for "string"', () => {
    const frame = createCodec<string>("string").encode("hi");
    expect(BigInt.asIntN(64, frame.readBigUInt64LE(2))).toBe(
      -8142146995180207161n,
    );
  });

  it("round-trips money as an exact decimal string", () => {
    const money = createCodec<{ amount: string; currency: string }>(
      "dev.sluice.common.Money",
    );
    for (const amount of [
      "0.00",
      "19.99",
      "-0.01",
      "1234567890123456.78",
      "-128.00",
    ]) {
      expect(money.decode(money.encode({ amount, currency: "EUR" }))).toEqual({
        amount,
        currency: "EUR",
      });
    }
    expect(() => money.encode({ amount: "1.999", currency: "EUR" })).toThrow(
      /amount/,
    );
  });

  it("rejects a value that does not fit, naming the field", () => {
    const bad = { ...review, movieId: "603" } as unknown as Review;
    expect(() => codec.encode(bad)).toThrow(
      /movieId: expected long, got string/,
    );
    expect(() => codec.encode({ ...review, reviewId: "not-a-uuid" })).toThrow(
      /reviewId/,
    );
  });

  it("fails with DECODE on a bad magic, showing the first bytes", () => {
    const error = decodeFailure(() =>
      codec.decode(Buffer.from('{"json":true}')),
    );
    expect(error.message).toMatch(/bad magic 7b22, expected c301/);
    expect(error.message).toMatch(/first bytes: 7b 22 6a 73/);
    expect(error.context.stage).toBe("decode");
  });

  it("fails with DECODE on a frame shorter than the header", () => {
    expect(
      decodeFailure(() => codec.decode(Buffer.from([0xc3, 0x01, 1]))).message,
    ).toMatch(/truncated single-object header: 3 bytes/);
    expect(decodeFailure(() => codec.decode(Buffer.alloc(0))).message).toMatch(
      /\(first bytes: \(empty\)\)/,
    );
  });

  it("fails with DECODE on an unknown fingerprint", () => {
    const frame = Buffer.from(codec.encode(review));
    frame.writeBigUInt64LE(0x0123456789abcdefn, 2);
    expect(decodeFailure(() => codec.decode(frame)).message).toMatch(
      /unknown writer schema fingerprint 0123456789abcdef/,
    );
  });

  it("fails with DECODE on a truncated body", () => {
    const frame = codec.encode(review);
    expect(
      decodeFailure(() => codec.decode(frame.subarray(0, frame.length - 3)))
        .message,
    ).toMatch(/truncated body/);
  });

  it("fails with DECODE on trailing garbage", () => {
    const frame = Buffer.concat([codec.encode(review), Buffer.from([1, 2, 3])]);
    expect(decodeFailure(() => codec.decode(frame)).message).toMatch(
      /3 trailing bytes after a complete dev.sluice.reviews.Review/,
    );
  });

  it("tryDecode returns the value or the DECODE error, never throws on bad bytes", () => {
    expect(codec.tryDecode(codec.encode(review))).toEqual({
      ok: true,
      value: review,
    });
    const result = codec.tryDecode(Buffer.from([0xc3]));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.code).toBe("DECODE");
  });

  it("tryDecode never throws on arbitrary bytes, with or without a valid header", () => {
    const header = codec.encode(review).subarray(0, 10);
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 64 }),
        fc.boolean(),
        (body, withHeader) => {
          const result = codec.tryDecode(
            withHeader ? Buffer.concat([header, body]) : body,
          );
          if (!result.ok) expect(result.error.code).toBe("DECODE");
        },
      ),
      { numRuns: 500 },
    );
  });

  it("fails with DECODE, without allocating, on a block count larger than the frame", () => {
    const store = new SchemaStore();
    const ints = createCodec<{ xs: number[] }>(
      {
        type: "record",
        name: "Ints",
        fields: [{ name: "xs", type: { type: "array", items: "int" } }],
      },
      { store },
    );
    const header = ints.encode({ xs: [] }).subarray(0, 10);
    // zigzag(2^28) as a varint: a 15-byte frame claiming 268 million ints.
    const frame = Buffer.concat([
      header,
      Buffer.from([0x80, 0x80, 0x80, 0x80, 0x02]),
    ]);
    expect(decodeFailure(() => ints.decode(frame)).message).toMatch(
      /corrupt Ints body: xs claims 268435456 items but only 0 bytes remain/,
    );
    const nulls = createCodec<null[]>(
      { type: "array", items: "null" },
      { store },
    );
    const zeroSize = Buffer.concat([
      nulls.encode([]).subarray(0, 10),
      Buffer.from([0x80, 0x80, 0x80, 0x80, 0x02]),
    ]);
    expect(decodeFailure(() => nulls.decode(zeroSize)).message).toMatch(
      /claims 268435456 items/,
    );
    expect(nulls.decode(nulls.encode([null, null]))).toEqual([null, null]);
  });

  it("tryDecode never throws on arbitrary bodies of schemas with arrays and maps", () => {
    const store = new SchemaStore();
    const nested = createCodec(
      {
        type: "record",
        name: "Nested",
        fields: [
          {
            name: "m",
            type: {
              type: "map",
              values: { type: "array", items: ["null", "long", "string"] },
            },
          },
          { name: "e", type: { type: "enum", name: "E", symbols: ["A", "B"] } },
        ],
      },
      { store },
    );
    const header = nested
      .encode({ m: { k: [null, 1, "x"] }, e: "B" })
      .subarray(0, 10);
    expect(
      nested.decode(nested.encode({ m: { k: [null, 1, "x"] }, e: "B" })),
    ).toEqual({ m: { k: [null, 1, "x"] }, e: "B" });
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 48 }), (body) => {
        const result = nested.tryDecode(Buffer.concat([header, body]));
        if (!result.ok) expect(result.error.code).toBe("DECODE");
      }),
      { numRuns: 1000 },
    );
  });

  it("accepts a Uint8Array view into a larger buffer", () => {
    const frame = codec.encode(review);
    const padded = new Uint8Array(frame.length + 4);
    padded.set(frame, 2);
    expect(codec.decode(padded.subarray(2, 2 + frame.length))).toEqual(review);
  });

  it("round-trips a dead letter carrying the original bytes", () => {
    const deadLetters = createCodec("dev.sluice.common.DeadLetter");
    const letter = {
      deadLetterId: randomUUID(),
      reasonCode: "DECODE",
      message: "bad magic",
      stage: "decode",
      job: "enrich",
      originTopic: "reviews",
      originPartition: 3,
      originOffset: 1234,
      key: Buffer.from("k"),
      headers: { "content-type": Buffer.from("avro/binary") },
      originalBytes: Buffer.from([0x7b, 0x22]),
      attempts: 1,
      failedAt: new Date(0),
    };
    expect(deadLetters.decode(deadLetters.encode(letter))).toEqual(letter);
  });

  it("round-trips a seed 003 integration event with nested named types from other files", () => {
    const checkout = createCodec("UserCheckoutAcceptedIntegrationEvent");
    const event = {
      id: randomUUID(),
      creationDate: new Date(1_700_000_000_000),
      userId: "u1",
      userName: "alice",
      orderNumber: 7,
      city: "Seattle",
      street: "1 Main St",
      state: "WA",
      country: "US",
      zipCode: "98101",
      cardNumber: "4012888888881881",
      cardHolderName: "Alice",
      cardExpiration: new Date(1_800_000_000_000),
      cardTypeId: 1,
      buyer: "alice",
      requestId: randomUUID(),
      basket: {
        buyerId: "u1",
        items: [
          {
            id: "1",
            productId: 9,
            productName: "Mug",
            unitPrice: "12.50",
            oldUnitPrice: null,
            quantity: 2,
            pictureUrl: null,
          },
        ],
      },
    };
    expect(checkout.decode(checkout.encode(event))).toEqual(event);
  });
});

describe("schema evolution (single-object)", () => {
  const base = {
    type: "record",
    name: "Evolving",
    namespace: "dev.sluice.test",
  } as const;
  const v1 = {
    ...base,
    fields: [
      { name: "id", type: "int" },
      { name: "score", type: "float" },
      { name: "label", type: "string" },
      { name: "dropped", type: "string" },
    ],
  };
  const v2 = {
    ...base,
    fields: [
      { name: "id", type: "long" },
      { name: "score", type: "double" },
      { name: "label", type: "bytes" },
      { name: "added", type: "string", default: "none" },
    ],
  };
  const v3 = {
    ...base,
    fields: [
      { name: "id", type: "long" },
      { name: "score", type: "double" },
      { name: "label", type: "bytes" },
      { name: "added", type: "string", default: "none" },
      { name: "extra", type: "boolean", default: false },
    ],
  };

  it("reads a record written by an older writer: promoted types, removed field, added field's default", () => {
    const store = new SchemaStore();
    const older = createCodec<Record<string, unknown>>(v1, { store });
    const reader = createCodec<Record<string, unknown>>(v2, { store });
    const frame = older.encode({
      id: 7,
      score: 0.5,
      label: "hi",
      dropped: "x",
    });
    expect(reader.decode(frame)).toEqual({
      id: 7,
      score: 0.5,
      label: Buffer.from("hi"),
      added: "none",
    });
  });

  it("reads a record written by a newer writer, ignoring the field it does not know", () => {
    const store = new SchemaStore();
    const newer = createCodec<Record<string, unknown>>(v3, { store });
    const reader = createCodec<Record<string, unknown>>(v2, { store });
    const frame = newer.encode({
      id: 7,
      score: 0.25,
      label: Buffer.from("b"),
      added: "yes",
      extra: true,
    });
    expect(reader.decode(frame)).toEqual({
      id: 7,
      score: 0.25,
      label: Buffer.from("b"),
      added: "yes",
    });
  });

  it("promotes bytes to string", () => {
    const store = new SchemaStore();
    const writer = createCodec<Record<string, unknown>>(v2, { store });
    const reader = createCodec<Record<string, unknown>>(
      {
        ...base,
        fields: [
          { name: "id", type: "long" },
          { name: "score", type: "double" },
          { name: "label", type: "string" },
        ],
      },
      { store },
    );
    expect(
      reader.decode(
        writer.encode({ id: 1, score: 1, label: Buffer.from("é"), added: "a" }),
      ),
    ).toEqual({ id: 1, score: 1, label: "é" });
  });

  it("decodes older versions of a real schema registered in the store", () => {
    const store = SchemaStore.load();
    const olderReview = store.register({
      type: "record",
      name: "Review",
      namespace: "dev.sluice.reviews",
      fields: [
        { name: "reviewId", type: { type: "string", logicalType: "uuid" } },
        { name: "movieId", type: "int" },
        { name: "userId", type: "int" },
        { name: "rating", type: "float" },
        {
          name: "createdAt",
          type: { type: "long", logicalType: "timestamp-millis" },
        },
        {
          name: "updatedAt",
          type: { type: "long", logicalType: "timestamp-millis" },
        },
      ],
    });
    const writer = createCodec<Record<string, unknown>>(olderReview, { store });
    const reader = createCodec<Review>("dev.sluice.reviews.Review", { store });
    const { text: _text, version: _version, ...old } = review;
    expect(reader.decode(writer.encode(old))).toEqual({
      ...review,
      text: null,
      version: 1,
    });
  });

  it("fails with a clear error when the writer cannot be resolved to the reader", () => {
    const store = new SchemaStore();
    const writer = createCodec<Record<string, unknown>>(
      { ...base, fields: [{ name: "id", type: "string" }] },
      { store },
    );
    const reader = createCodec<Record<string, unknown>>(
      {
        ...base,
        fields: [
          { name: "id", type: "int" },
          { name: "must", type: "int" },
        ],
      },
      { store },
    );
    expect(() => reader.type.createResolver(writer.type)).toThrow();
    const error = decodeFailure(() =>
      reader.decode(writer.encode({ id: "x" })),
    );
    expect(error.message).toMatch(
      /writer schema dev.sluice.test.Evolving \(fingerprint [0-9a-f]{16}\) cannot be read as dev.sluice.test.Evolving/,
    );
  });
});
