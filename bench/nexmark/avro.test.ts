import { describe, expect, it } from "vitest";
import { nexmarkCodec, nexmarkKey } from "./avro.js";
import { defaultGeneratorOptions, NexmarkGenerator } from "./generator.js";

describe("Nexmark events on Kafka (Avro union)", () => {
  it("decodes every kind of event to what was encoded, tagged by its union index", () => {
    const codec = nexmarkCodec();
    const gen = new NexmarkGenerator(defaultGeneratorOptions);
    const tags = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const e = gen.next();
      const bytes = codec.encode(e);
      tags.add(bytes[0]!);
      expect(bytes[0]).toBe(e.type * 2);
      expect({ ...codec.decode(bytes) }).toEqual(e);
    }
    expect([...tags].sort()).toEqual([0, 2, 4]);
  });

  it("keys a bid by its auction and a person or auction by its id", () => {
    const gen = new NexmarkGenerator(defaultGeneratorOptions);
    const person = gen.next();
    const auction = gen.next();
    expect(nexmarkKey(person)).toBe(String((person as { id: number }).id));
    expect(nexmarkKey(auction)).toBe(String((auction as { id: number }).id));
    for (let i = 0; i < 10; i++) gen.next();
    const bid = gen.next();
    expect(bid.type).toBe(2);
    expect(nexmarkKey(bid)).toBe(String((bid as { auction: number }).auction));
  });

  it("names the bad tag byte of a value that is not one of the three events", () => {
    expect(() => nexmarkCodec().decode(Buffer.from([6, 0]))).toThrow(
      /union tag byte 6/,
    );
  });
});
