import { describe, expect, it } from "vitest";
import { createCodec } from "../codec.js";
import { SchemaStore } from "../schema-store.js";

const store = SchemaStore.load();

describe("maps decode without a prototype", () => {
  it("keeps a __proto__ key as an ordinary entry, for string and record values, also through a resolver", () => {
    const Bag = {
      type: "record",
      name: "Bag",
      namespace: "dev.sluice.test.maps",
      fields: [
        { name: "tags", type: { type: "map", values: "string" } },
        {
          name: "nested",
          type: {
            type: "map",
            values: {
              type: "record",
              name: "Inner",
              fields: [{ name: "x", type: "int" }],
            },
          },
        },
      ],
    };
    const codec = createCodec<{
      tags: Record<string, string>;
      nested: Record<string, { x: number }>;
    }>(Bag, { store });
    const value = JSON.parse(
      '{"tags":{"__proto__":"x","constructor":"y","a":"b"},"nested":{"__proto__":{"x":1}}}',
    ) as {
      tags: Record<string, string>;
      nested: Record<string, { x: number }>;
    };
    const back = codec.decode(codec.encode(value));
    expect(Object.keys(back.tags)).toEqual(["__proto__", "constructor", "a"]);
    expect(back.tags["__proto__"]).toBe("x");
    expect(Object.getPrototypeOf(back.tags)).toBeNull();
    expect(Object.keys(back.nested)).toEqual(["__proto__"]);
    expect(back.nested["__proto__"]).toMatchObject({ x: 1 });
    expect(Object.getPrototypeOf(back.nested)).toBeNull();

    // the same frame read by a reader whose map values were promoted (a resolver path)
    const wider = createCodec<{ tags: Record<string, string> }>(
      {
        ...Bag,
        fields: [{ name: "tags", type: { type: "map", values: "string" } }],
      },
      { store },
    );
    const resolved = wider.decode(codec.encode(value));
    expect(resolved.tags["__proto__"]).toBe("x");
  });

  it("keeps a Kafka header named __proto__ in a DeadLetter's headers", () => {
    const codec = createCodec<{ headers: Record<string, Buffer> }>(
      "dev.sluice.common.DeadLetter",
      { store },
    );
    const headers = Object.fromEntries([
      ["__proto__", Buffer.from("evil")],
      ["trace", Buffer.from("t1")],
    ]) as Record<string, Buffer>;
    const back = codec.decode(
      codec.encode({
        deadLetterId: "0b7e7dc4-3a8c-4c31-9a3f-0f3f1e2d5c11",
        reasonCode: "DECODE",
        message: "bad frame",
        stage: "decode",
        job: "reviews",
        originTopic: "reviews",
        originPartition: 0,
        originOffset: 7,
        key: null,
        headers,
        originalBytes: Buffer.from([0xc3]),
        attempts: 1,
        failedAt: new Date(0),
      } as never),
    );
    expect(Object.keys(back.headers)).toEqual(["__proto__", "trace"]);
    expect(back.headers["__proto__"]).toEqual(Buffer.from("evil"));
    expect(Object.getPrototypeOf(back.headers)).toBeNull();
  });

  it("refuses a schema with a record field named __proto__, clearly", () => {
    expect(() =>
      createCodec(
        {
          type: "record",
          name: "Proto",
          namespace: "dev.sluice.test.maps",
          fields: [{ name: "__proto__", type: "string" }],
        },
        { store },
      ),
    ).toThrow(/record field named __proto__ cannot be represented/);
  });
});
