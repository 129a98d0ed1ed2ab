import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SluiceError } from "./internal/sluice-error.js";
import { createCodec } from "./codec.js";
import {
  HttpSchemaRegistryClient,
  InMemorySchemaRegistry,
  type SchemaRegistryClient,
} from "./registry.js";
import {
  startRegistrySimulator,
  type RegistrySimulator,
} from "./registry-simulator.js";
import {
  avroAssetDir,
  fingerprintOf,
  SchemaStore,
  type AvroSchemaJson,
} from "./schema-store.js";

const pingV1 = JSON.stringify({
  type: "record",
  name: "Ping",
  namespace: "dev.sluice.test",
  fields: [{ name: "n", type: "int" }],
});
const pingV2 = JSON.stringify({
  type: "record",
  name: "Ping",
  namespace: "dev.sluice.test",
  fields: [
    { name: "n", type: "long" },
    { name: "note", type: "string", default: "" },
  ],
});

let sim: RegistrySimulator;
beforeAll(async () => {
  sim = await startRegistrySimulator();
});
afterAll(async () => {
  await sim.close();
});

describe("registry simulator over the Confluent REST shape", () => {
  const post = (path: string, body: unknown) =>
    fetch(`${sim.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/vnd.schemaregistry.v1+json" },
      body: JSON.stringify(body),
    });

  it("POST /subjects/{subject}/versions answers { id }, the same id for the same schema", async () => {
    const first = (await (
      await post("/subjects/pings-value/versions", { schema: pingV1 })
    ).json()) as { id: number };
    const again = (await (
      await post("/subjects/other-value/versions", { schema: ` ${pingV1} ` })
    ).json()) as { id: number };
    expect(first).toEqual({ id: expect.any(Number) as number });
    expect(again.id).toBe(first.id);
  });

  it("GET /schemas/ids/{id} answers { schema }; an unknown id is 404 with error_code 40403", async () => {
    const { id } = (await (
      await post("/subjects/pings-value/versions", { schema: pingV1 })
    ).json()) as { id: number };
    expect(await (await fetch(`${sim.url}/schemas/ids/${id}`)).json()).toEqual({
      schema: pingV1,
    });
    const missing = await fetch(`${sim.url}/schemas/ids/9999`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({
      error_code: 40403,
      message: "Schema not found",
    });
  });

  it("POST /subjects/{subject} looks a schema up: 40401 for an unknown subject, 40403 for an unknown schema", async () => {
    expect(
      (
        (await (await post("/subjects/nobody", { schema: pingV1 })).json()) as {
          error_code: number;
        }
      ).error_code,
    ).toBe(40401);
    expect(
      (
        (await (
          await post("/subjects/pings-value", { schema: pingV2 })
        ).json()) as { error_code: number }
      ).error_code,
    ).toBe(40403);
    expect(
      await (await post("/subjects/pings-value", { schema: pingV1 })).json(),
    ).toMatchObject({ subject: "pings-value", version: 1 });
  });

  it("rejects an invalid schema with 422 and error_code 42201", async () => {
    const response = await post("/subjects/bad/versions", {
      schema: '{"type":"record"}',
    });
    expect(response.status).toBe(422);
    expect(((await response.json()) as { error_code: number }).error_code).toBe(
      42201,
    );
  });
});

describe.each([
  [
    "HttpSchemaRegistryClient against the simulator",
    () => new HttpSchemaRegistryClient(sim.url),
  ],
  ["InMemorySchemaRegistry", () => new InMemorySchemaRegistry()],
] as const)("%s", (_name, make) => {
  let registry: SchemaRegistryClient;
  beforeAll(() => {
    registry = make();
  });

  it("registers idempotently and fetches by id", async () => {
    const id = await registry.register("conformance-value", pingV1);
    expect(await registry.register("conformance-value", pingV1)).toBe(id);
    expect(JSON.parse(await registry.getById(id))).toEqual(JSON.parse(pingV1));
    expect(await registry.getIdBySchema("conformance-value", pingV1)).toBe(id);
  });

  it("answers undefined for a schema not under the subject and NOT_FOUND for an unknown id", async () => {
    expect(
      await registry.getIdBySchema("conformance-value", pingV2),
    ).toBeUndefined();
    expect(
      await registry.getIdBySchema("never-registered", pingV1),
    ).toBeUndefined();
    await expect(registry.getById(424242)).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
  });
});

describe("HttpSchemaRegistryClient failures", () => {
  it("maps an unreachable registry to a retryable CONNECTION error", async () => {
    const down = await startRegistrySimulator();
    await down.close();
    const error = await new HttpSchemaRegistryClient(down.url)
      .getById(1)
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "CONNECTION", retryable: true });
  });

  it("sends URL credentials as basic auth and never prints them", async () => {
    const url = new URL(sim.url);
    url.username = "user";
    url.password = "s3cret";
    const error = await new HttpSchemaRegistryClient(url.toString())
      .getById(31337)
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "NOT_FOUND" });
    expect((error as Error).message).not.toContain("s3cret");
  });
});

describe("createCodec with Confluent framing", () => {
  it("frames as 00 + 4-byte big-endian id + body and round-trips over the HTTP registry", async () => {
    const store = new SchemaStore();
    const codec = createCodec<{ n: number }>(
      JSON.parse(pingV1) as AvroSchemaJson,
      { framing: "confluent", registryUrl: sim.url, store },
    );
    const frame = await codec.encode({ n: 5 });
    expect(frame[0]).toBe(0);
    // The registered schema is the one given, as written.
    const id = await sim.registry.getIdBySchema("dev.sluice.test.Ping", pingV1);
    expect(frame.readUInt32BE(1)).toBe(id);
    expect(await codec.decode(frame)).toEqual({ n: 5 });
  });

  it("resolves a frame written with an older schema id to the reader schema", async () => {
    const registry = new InMemorySchemaRegistry();
    const writer = createCodec<{ n: number }>(
      JSON.parse(pingV1) as AvroSchemaJson,
      { framing: "confluent", registry, store: new SchemaStore() },
    );
    const reader = createCodec(JSON.parse(pingV2) as AvroSchemaJson, {
      framing: "confluent",
      registry,
      store: new SchemaStore(),
    });
    expect(await reader.decode(await writer.encode({ n: 9 }))).toEqual({
      n: 9,
      note: "",
    });
  });

  it("round-trips a real schema with logical types through the registry", async () => {
    const codec = createCodec("dev.sluice.common.Money", {
      framing: "confluent",
      registry: new InMemorySchemaRegistry(),
    });
    expect(
      await codec.decode(
        await codec.encode({ amount: "12.34", currency: "IDR" }),
      ),
    ).toEqual({ amount: "12.34", currency: "IDR" });
  });

  it("turns bad magic, short frames, unknown ids and truncated bodies into DECODE results", async () => {
    const registry = new InMemorySchemaRegistry();
    const codec = createCodec<{ n: number }>(
      JSON.parse(pingV1) as AvroSchemaJson,
      { framing: "confluent", registry, store: new SchemaStore() },
    );
    const good = await codec.encode({ n: 300 });
    const unknownId = Buffer.from(good);
    unknownId.writeUInt32BE(777, 1);
    const cases: [Buffer, RegExp][] = [
      [Buffer.from([0xc3, 0x01, 0, 0, 0, 0]), /bad magic c3, expected 00/],
      [Buffer.from([0, 0, 0]), /truncated Confluent header: 3 bytes/],
      [unknownId, /unknown schema id 777/],
      [good.subarray(0, good.length - 1), /truncated body/],
      [Buffer.concat([good, Buffer.from([9])]), /1 trailing bytes/],
    ];
    for (const [bytes, message] of cases) {
      const result = await codec.tryDecode(bytes);
      expect(result.ok).toBe(false);
      if (!result.ok) {
        expect(result.error.code).toBe("DECODE");
        expect(result.error.message).toMatch(message);
      }
    }
  });

  it("rejects (does not dead-letter) when the registry is unreachable, so the record is retried", async () => {
    const down = await startRegistrySimulator();
    await down.close();
    const codec = createCodec(JSON.parse(pingV1) as AvroSchemaJson, {
      framing: "confluent",
      registryUrl: down.url,
      store: new SchemaStore(),
    });
    const frame = Buffer.from([0, 0, 0, 0, 1, 2]);
    await expect(codec.tryDecode(frame)).rejects.toMatchObject({
      code: "CONNECTION",
    });
  });

  it("with autoRegister off, encode fails NOT_FOUND until the schema is registered", async () => {
    const registry = new InMemorySchemaRegistry();
    const options = {
      framing: "confluent",
      registry,
      autoRegister: false,
      subject: "pings-value",
      store: new SchemaStore(),
    } as const;
    const codec = createCodec<{ n: number }>(
      JSON.parse(pingV1) as AvroSchemaJson,
      options,
    );
    await expect(codec.encode({ n: 1 })).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
    await registry.register("pings-value", pingV1);
    expect((await codec.encode({ n: 1 }))[0]).toBe(0);
  });

  it("validates options at creation, naming the field", () => {
    const ping = JSON.parse(pingV1) as AvroSchemaJson;
    expect(() => createCodec(ping, { framing: "confluent" })).toThrow(
      /avro.codec.registryUrl \(or avro.codec.registry\) is required/,
    );
    expect(() =>
      createCodec(ping, { framing: "confluent", registryUrl: "ftp://x" }),
    ).toThrow(/avro.codec.registryUrl must be an http\(s\) URL/);
    expect(() =>
      createCodec(ping, {
        framing: "confluent",
        registryUrl: sim.url,
        requestTimeoutMs: 0,
      }),
    ).toThrow(/requestTimeoutMs/);
    expect(() => createCodec(ping, { framing: "bogus" } as never)).toThrow(
      SluiceError,
    );
  });
});

describe("the schema a Confluent codec registers", () => {
  const dirs = [
    avroAssetDir("schemas"),
    join(avroAssetDir("schemas"), "eshop"),
    join(avroAssetDir("schemas"), "outreach"),
  ];

  it.each(dirs)(
    "is each .avsc of %s as written, self-contained, with the type's fingerprint",
    async (dir) => {
      const store = SchemaStore.load(dir);
      const registry = new InMemorySchemaRegistry();
      for (const name of store.names()) {
        const type = store.type(name);
        const codec = createCodec(type, {
          framing: "confluent",
          registry,
          store,
        });
        const frame = await codec
          .encode(undefined as never)
          .catch(() => undefined);
        expect(frame).toBeUndefined(); // encode validates before it registers
        const id = await registry.register(
          name,
          JSON.stringify(store.schemaJson(type)),
        );
        const text = await registry.getById(id);
        // parsed alone (no store to resolve names against), it is the same schema
        const alone = new SchemaStore().register(
          JSON.parse(text) as AvroSchemaJson,
        );
        expect(fingerprintOf(alone), name).toBe(fingerprintOf(type));
        // every attribute of the file survives: the file's JSON is a sub-tree of the text
        const file = store.fileOf(name);
        expect(file).toBeDefined();
        const written = JSON.parse(
          readFileSync(join(dir, file as string), "utf8"),
        ) as Record<string, unknown>;
        const registered = JSON.parse(text) as Record<string, unknown>;
        expect(Object.keys(registered)).toEqual(Object.keys(written));
        for (const key of Object.keys(written).filter((k) => k !== "fields"))
          expect(registered[key], `${name}.${key}`).toEqual(written[key]);
      }
    },
  );

  it("keeps decimal precision/scale, enum defaults and aliases, which avsc's export drops", async () => {
    const store = SchemaStore.load();
    const registry = new InMemorySchemaRegistry();
    const codec = createCodec<{ amount: string; currency: string }>(
      "dev.sluice.common.Money",
      { framing: "confluent", registry, store },
    );
    const frame = await codec.encode({ amount: "19.90", currency: "EUR" });
    const text = await registry.getById(frame.readUInt32BE(1));
    expect(JSON.parse(text)).toMatchObject({
      fields: [
        {
          name: "amount",
          type: {
            type: "bytes",
            logicalType: "decimal",
            precision: 18,
            scale: 2,
          },
        },
        { name: "currency" },
      ],
    });
    const withEnum = createCodec(
      {
        type: "record",
        name: "Tagged",
        namespace: "dev.sluice.test",
        aliases: ["OldTagged"],
        fields: [
          {
            name: "status",
            aliases: ["state"],
            type: {
              type: "enum",
              name: "TagStatus",
              symbols: ["UNKNOWN", "ON"],
              default: "UNKNOWN",
            },
          },
          { name: "stage", type: "dev.sluice.common.Stage" },
        ],
      },
      { framing: "confluent", registry, store },
    );
    const tagged = await withEnum.encode({
      status: "ON",
      stage: "decode",
    });
    const schema = JSON.parse(
      await registry.getById(tagged.readUInt32BE(1)),
    ) as {
      aliases: string[];
      fields: { aliases?: string[]; type: { default?: string } }[];
    };
    expect(schema.aliases).toEqual(["OldTagged"]);
    expect(schema.fields[0]?.aliases).toEqual(["state"]);
    expect(schema.fields[0]?.type.default).toBe("UNKNOWN");
    // a named type from another file is inlined as written (Stage carries its own default)
    const stageFile = JSON.parse(
      readFileSync(join(avroAssetDir("schemas"), "Stage.avsc"), "utf8"),
    ) as unknown;
    expect(schema.fields[1]?.type).toEqual(stageFile);
  });
});
