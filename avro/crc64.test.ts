import { describe, expect, it } from "vitest";
import avsc from "avsc";
import { crc64Avro, CRC64_AVRO_EMPTY } from "./crc64.js";

// Vectors from the Avro project's share/test/data/schema-tests.txt: input schema, its Parsing
// Canonical Form, and the fingerprint as a signed Java long.
const vectors: readonly (readonly [string, string, bigint])[] = [
  ['"null"', '"null"', 7195948357588979594n],
  ['"boolean"', '"boolean"', -6970731678124411036n],
  ['"int"', '"int"', 8247732601305521295n],
  ['"long"', '"long"', -3434872931120570953n],
  ['"float"', '"float"', 5583340709985441680n],
  ['"double"', '"double"', -8181574048448539266n],
  ['"bytes"', '"bytes"', 5746618253357095269n],
  ['"string"', '"string"', -8142146995180207161n],
  ['["int", {"type":"boolean"}]', '["int","boolean"]', 5392556393470105090n],
  [
    '{"fields":[], "type":"record", "name":"foo"}',
    '{"name":"foo","type":"record","fields":[]}',
    -4824392279771201922n,
  ],
  [
    '{"fields":[], "type":"record", "name":"foo", "namespace":"x.y"}',
    '{"name":"x.y.foo","type":"record","fields":[]}',
    5916914534497305771n,
  ],
  [
    '{"fields":[{"type":"boolean","aliases":[],"name":"f1","default":true},{"order":"descending","name":"f2","doc":"Hello","type":"int"}],"type":"record","name":"foo"}',
    '{"name":"foo","type":"record","fields":[{"name":"f1","type":"boolean"},{"name":"f2","type":"int"}]}',
    -4860222112080293046n,
  ],
  [
    '{"namespace":"x.y.z", "type":"enum", "name":"foo", "doc":"foo bar", "symbols":["A1", "A2"]}',
    '{"name":"x.y.z.foo","type":"enum","symbols":["A1","A2"]}',
    -4448647247586288245n,
  ],
  [
    '{"name":"foo","type":"fixed","size":15}',
    '{"name":"foo","type":"fixed","size":15}',
    1756455273707447556n,
  ],
  [
    '{ "items":{"type":"null"}, "type":"array"}',
    '{"type":"array","items":"null"}',
    -589620603366471059n,
  ],
  [
    '{ "values":"string", "type":"map"}',
    '{"type":"map","values":"string"}',
    -8732877298790414990n,
  ],
  [
    '{"name":"PigValue","type":"record","fields":[{"name":"value", "type":["null", "int", "long", "PigValue"]}]}',
    '{"name":"PigValue","type":"record","fields":[{"name":"value","type":["null","int","long","PigValue"]}]}',
    -1759257747318642341n,
  ],
];

describe("crc64Avro", () => {
  it("fingerprints zero bytes as the spec's EMPTY constant", () => {
    expect(crc64Avro("")).toBe(CRC64_AVRO_EMPTY);
  });

  it.each(vectors)(
    "matches the spec's fingerprint for %s",
    (_input, canonical, signed) => {
      expect(BigInt.asIntN(64, crc64Avro(canonical))).toBe(signed);
    },
  );

  it.each(vectors)(
    "avsc's schema() yields the spec's Parsing Canonical Form for %s",
    (input, canonical) => {
      const type = avsc.Type.forSchema(JSON.parse(input) as avsc.Schema);
      expect(JSON.stringify(type.schema())).toBe(canonical);
    },
  );
});
