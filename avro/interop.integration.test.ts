/**
 * Sluice's Avro against an independent implementation: Python fastavro (pinned in
 * stack/fastavro.mjs, installed into <cache>/fastavro/venv on first use). For every schema in
 * avro/schemas (and its subfolders) and random datums with edge values, in both long modes:
 * the Parsing Canonical Form and fingerprint agree; Sluice's frames (single-object and
 * Confluent) read back in fastavro as the same value and fastavro writes the very same bytes;
 * fastavro's frames decode in Sluice to the same value; evolution pairs resolve alike.
 * The tool missing is a failure, never a skip.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { readdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type avsc from "avsc";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCodec } from "./codec.js";
import type { LongMode } from "./longs.js";
import { InMemorySchemaRegistry } from "./registry.js";
import {
  avroAssetDir,
  canonicalForm,
  fingerprintOf,
  SchemaStore,
} from "./schema-store.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const DATUMS_PER_SCHEMA = 10;

// ---------------------------------------------------------------- the peer process

interface PeerReply {
  readonly ok: boolean;
  readonly error?: string;
  readonly hex?: string;
  readonly value?: unknown;
  readonly pcf?: string;
  readonly fp?: string;
}

class Peer {
  private readonly child: ChildProcess;
  private readonly waiting = new Map<number, (r: PeerReply) => void>();
  private next = 0;
  private stderr = "";

  constructor(python: string) {
    this.child = spawn(
      python,
      [join(root, "avro", "interop", "fastavro_peer.py")],
      { stdio: ["pipe", "pipe", "pipe"] },
    );
    this.child.stderr?.on("data", (b: Buffer) => {
      this.stderr += b.toString();
    });
    const lines = createInterface({ input: this.child.stdout! });
    lines.on("line", (line) => {
      const reply = JSON.parse(line) as PeerReply & { rid: number };
      this.waiting.get(reply.rid)?.(reply);
      this.waiting.delete(reply.rid);
    });
    this.child.once("exit", (code) => {
      for (const resolve of this.waiting.values())
        resolve({ ok: false, error: `peer exited ${code}: ${this.stderr}` });
      this.waiting.clear();
    });
  }

  ask(request: Record<string, unknown>): Promise<PeerReply> {
    const rid = this.next++;
    return new Promise((resolve) => {
      this.waiting.set(rid, resolve);
      this.child.stdin!.write(`${JSON.stringify({ ...request, rid })}\n`);
    });
  }

  async must(request: Record<string, unknown>): Promise<PeerReply> {
    const reply = await this.ask(request);
    if (!reply.ok)
      throw new Error(`fastavro ${String(request["op"])}: ${reply.error}`);
    return reply;
  }

  close(): void {
    this.child.stdin?.end();
  }
}

// ---------------------------------------------------------------- typed JSON (see fastavro_peer.py)

interface AnyType {
  readonly typeName: string;
  readonly types?: readonly AnyType[];
  readonly fields?: readonly {
    readonly name: string;
    readonly type: AnyType;
  }[];
  readonly itemsType?: AnyType;
  readonly valuesType?: AnyType;
  readonly symbols?: readonly string[];
  readonly size?: number;
  readonly branchName?: string;
  readonly underlyingType?: AnyType;
  isValid(v: unknown): boolean;
}

const doubleHex = (x: number): string => {
  const b = Buffer.alloc(8);
  b.writeDoubleBE(x);
  return b.toString("hex");
};

function branchIndex(t: AnyType, v: unknown): number {
  const types = t.types ?? [];
  if (t.typeName === "union:wrapped") {
    if (v === null) return types.findIndex((b) => b.typeName === "null");
    const key = Object.keys(v as object)[0];
    return types.findIndex((b) => b.branchName === key);
  }
  return types.findIndex((b) => b.isValid(v));
}

function toTyped(t: AnyType, v: unknown): unknown {
  switch (t.typeName) {
    case "null":
    case "boolean":
    case "int":
    case "string":
    case "enum":
      return v;
    case "long":
    case "abstract:long":
      return String(v);
    case "float":
    case "double":
      return doubleHex(v as number);
    case "bytes":
    case "fixed":
      return (v as Buffer).toString("hex");
    case "array":
      return (v as unknown[]).map((x) => toTyped(t.itemsType!, x));
    case "map":
      return Object.keys(v as object).map((k) => [
        k,
        toTyped(t.valuesType!, (v as Record<string, unknown>)[k]),
      ]);
    case "record":
    case "error":
      return Object.fromEntries(
        (t.fields ?? []).map((f) => [
          f.name,
          toTyped(f.type, (v as Record<string, unknown>)[f.name]),
        ]),
      );
    case "logical:decimal":
    case "logical:uuid":
      return v;
    case "logical:timestamp-millis":
      return String((v as Date).getTime());
    case "union:unwrapped":
    case "union:wrapped": {
      const b = branchIndex(t, v);
      const branch = t.types![b]!;
      const inner =
        t.typeName === "union:wrapped" && v !== null
          ? (v as Record<string, unknown>)[branch.branchName!]
          : v;
      return { b, v: toTyped(branch, inner) };
    }
    default:
      throw new Error(`toTyped: ${t.typeName}`);
  }
}

function fromTyped(t: AnyType, v: unknown, mode: LongMode): unknown {
  switch (t.typeName) {
    case "null":
    case "boolean":
    case "int":
    case "string":
    case "enum":
    case "logical:decimal":
    case "logical:uuid":
      return v;
    case "long":
    case "abstract:long":
      return mode === "bigint" ? BigInt(v as string) : Number(v);
    case "float":
    case "double":
      return Buffer.from(v as string, "hex").readDoubleBE();
    case "bytes":
    case "fixed":
      return Buffer.from(v as string, "hex");
    case "array":
      return (v as unknown[]).map((x) => fromTyped(t.itemsType!, x, mode));
    case "map": {
      const out = Object.create(null) as Record<string, unknown>;
      for (const [k, x] of v as [string, unknown][])
        out[k] = fromTyped(t.valuesType!, x, mode);
      return out;
    }
    case "record":
    case "error":
      return Object.fromEntries(
        (t.fields ?? []).map((f) => [
          f.name,
          fromTyped(f.type, (v as Record<string, unknown>)[f.name], mode),
        ]),
      );
    case "logical:timestamp-millis":
      return new Date(Number(v));
    case "union:unwrapped":
    case "union:wrapped": {
      const { b, v: inner } = v as { b: number; v: unknown };
      const branch = t.types![b]!;
      const value = fromTyped(branch, inner, mode);
      return t.typeName === "union:wrapped" && value !== null
        ? { [branch.branchName!]: value }
        : value;
    }
    default:
      throw new Error(`fromTyped: ${t.typeName}`);
  }
}

// ---------------------------------------------------------------- random datums with edge values

/** A small seeded PRNG (mulberry32), so a failure names a seed that reproduces it. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SEED = Number(process.env["SLUICE_INTEROP_SEED"] ?? 20261208);

function generator(mode: LongMode, rnd: () => number) {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const edge = (): boolean => rnd() < 0.5;
  const int = (): number =>
    edge()
      ? pick([0, -1, 1, 2 ** 31 - 1, -(2 ** 31), 63, -64, 64])
      : Math.floor(rnd() * 2 ** 32) - 2 ** 31;
  const bigLong = (): bigint => {
    const hi = BigInt(Math.floor(rnd() * 2 ** 32));
    const lo = BigInt(Math.floor(rnd() * 2 ** 32));
    return BigInt.asIntN(64, (hi << 32n) | lo);
  };
  const long = (): number | bigint => {
    if (mode === "bigint") {
      return edge()
        ? pick([
            0n,
            -1n,
            -(2n ** 63n),
            2n ** 63n - 1n,
            2n ** 53n,
            -4503599627370497n,
            -(2n ** 53n) + 2n,
          ])
        : bigLong() >> BigInt(Math.floor(rnd() * 64));
    }
    return edge()
      ? pick([
          0,
          -1,
          Number.MAX_SAFE_INTEGER,
          Number.MIN_SAFE_INTEGER,
          -4503599627370497,
          -(2 ** 53) + 2,
          2 ** 31,
        ])
      : Math.floor((rnd() - 0.5) * 2 ** (1 + Math.floor(rnd() * 53)));
  };
  const string = (): string =>
    pick([
      "",
      "a",
      "x".repeat(5000),
      "é😀\u0000\uffff",
      "__proto__",
      randomUUID(),
    ]);
  const bytes = (n?: number): Buffer => {
    const len = n ?? pick([0, 1, 7, 300]);
    return Buffer.from(
      Array.from({ length: len }, () => Math.floor(rnd() * 256)),
    );
  };
  const decimal = (precision: number, scale: number): string => {
    const digits = edge() ? precision : 1 + Math.floor(rnd() * precision);
    let d = Array.from({ length: digits }, () =>
      edge() ? "9" : String(Math.floor(rnd() * 10)),
    ).join("");
    d = d.padStart(scale + 1, "0");
    const whole = d.slice(0, d.length - scale).replace(/^0+(?=\d)/, "");
    const frac = d.slice(d.length - scale);
    const sign = rnd() < 0.5 && /[1-9]/.test(d) ? "-" : "";
    return `${sign}${whole}${scale > 0 ? `.${frac}` : ""}`;
  };
  // Python's datetime holds years 1..9999; the edges around the epoch and at both ends.
  const millis = (): number =>
    edge()
      ? pick([0, -1, 1, -62135596800000, 253402300799999, 86_399_999])
      : Math.floor((rnd() - 0.5) * 2 * 10 ** 13);

  const gen = (t: AnyType, depth: number): unknown => {
    switch (t.typeName) {
      case "null":
        return null;
      case "boolean":
        return rnd() < 0.5;
      case "int":
        return int();
      case "long":
      case "abstract:long":
        return long();
      case "float":
        // float32 values only: a double would be rounded on write by both sides alike
        return Math.fround(
          edge()
            ? pick([
                0,
                -0,
                NaN,
                Infinity,
                -Infinity,
                3.4028234663852886e38,
                1e-45,
              ])
            : (rnd() - 0.5) * 1e6,
        );
      case "double":
        return edge()
          ? pick([
              0,
              -0,
              NaN,
              Infinity,
              -Infinity,
              Number.MAX_VALUE,
              Number.MIN_VALUE,
            ])
          : (rnd() - 0.5) * 1e300 * rnd();
      case "string":
        return string();
      case "bytes":
        return bytes();
      case "fixed":
        return bytes(t.size);
      case "enum":
        return pick(t.symbols!);
      case "array":
        return Array.from(
          { length: depth > 6 ? 0 : Math.floor(rnd() * 3) },
          () => gen(t.itemsType!, depth + 1),
        );
      case "map": {
        const out: Record<string, unknown> = {};
        const keys =
          depth > 6
            ? []
            : ["", "k", "__proto__"].slice(0, Math.floor(rnd() * 4));
        for (const k of keys)
          Object.defineProperty(out, k, {
            value: gen(t.valuesType!, depth + 1),
            enumerable: true,
          });
        return out;
      }
      case "record":
      case "error":
        return Object.fromEntries(
          (t.fields ?? []).map((f) => [f.name, gen(f.type, depth + 1)]),
        );
      case "logical:decimal": {
        const { precision, scale } = t as unknown as {
          precision: number;
          scale: number;
        };
        return decimal(precision, scale);
      }
      case "logical:uuid":
        return randomUUID();
      case "logical:timestamp-millis":
        return new Date(millis());
      case "union:unwrapped":
      case "union:wrapped": {
        const types = t.types!;
        const nullable = types.findIndex((b) => b.typeName === "null");
        const b =
          depth > 6 && nullable >= 0
            ? nullable
            : Math.floor(rnd() * types.length);
        const branch = types[b]!;
        const value = gen(branch, depth + 1);
        return t.typeName === "union:wrapped" && value !== null
          ? { [branch.branchName!]: value }
          : value;
      }
      default:
        throw new Error(`gen: ${t.typeName}`);
    }
  };
  return gen;
}

// ---------------------------------------------------------------- the schemas

function schemaDirs(dir: string): string[] {
  return [
    dir,
    ...readdirSync(dir)
      .map((d) => join(dir, d))
      .filter((d) => statSync(d).isDirectory())
      .flatMap(schemaDirs),
  ];
}

/** A recursive schema, for deep nesting (the .avsc files are shallow). */
const TREE = {
  type: "record",
  name: "Tree",
  namespace: "dev.sluice.test.interop",
  fields: [
    { name: "label", type: "string" },
    { name: "weight", type: "long" },
    { name: "children", type: { type: "array", items: "Tree" } },
    { name: "next", type: ["null", "Tree"], default: null },
  ],
};

function deepTree(depth: number): unknown {
  let node: unknown = { label: "leaf", weight: -1, children: [], next: null };
  for (let i = 0; i < depth; i++)
    node = {
      label: `n${i}`,
      weight: i,
      children: i % 10 === 0 ? [node] : [],
      next: i % 10 === 0 ? null : node,
    };
  return node;
}

// ---------------------------------------------------------------- the suite

let peer: Peer;

beforeAll(() => {
  // Provisions (or finds) the pinned fastavro venv; a failure here fails the suite.
  const r = spawnSync(process.execPath, [join(root, "stack", "fastavro.mjs")], {
    encoding: "utf8",
    timeout: 600_000,
  });
  if (r.status !== 0)
    throw new Error(
      `the interop tool (fastavro) is missing and could not be installed: run \`node stack/fastavro.mjs\`\n${r.stderr}`,
    );
  peer = new Peer(r.stdout.trim());
}, 600_000);

afterAll(() => {
  peer?.close();
});

/** Checks one value of one schema both ways, in both framings. */
async function roundTrip(
  store: SchemaStore,
  type: avsc.Type,
  mode: LongMode,
  value: unknown,
  registry: InMemorySchemaRegistry,
): Promise<void> {
  const t = type as unknown as AnyType;
  const schema = store.schemaJson(type);
  const typed = toTyped(t, value);
  const label = `${type.name ?? type.typeName} ${JSON.stringify(typed).slice(0, 200)}`;

  // single-object, Sluice → fastavro
  const codec = createCodec(type, { store });
  const frame = codec.encode(value);
  const read = await peer.must({
    op: "read",
    writer: schema,
    hex: frame.toString("hex"),
    framing: "single-object",
  });
  expect(read.value, `fastavro reads Sluice's frame: ${label}`).toEqual(typed);
  // fastavro → Sluice: the very same bytes, decoded to the same value
  const written = await peer.must({
    op: "write",
    schema,
    value: typed,
    framing: "single-object",
  });
  expect(written.hex, `fastavro writes the same bytes: ${label}`).toBe(
    frame.toString("hex"),
  );
  const back = codec.decode(Buffer.from(written.hex!, "hex"));
  expect(toTyped(t, back), `Sluice reads fastavro's frame: ${label}`).toEqual(
    typed,
  );

  // Confluent: fastavro parses the schema text Sluice registered
  const confluent = createCodec(type, {
    framing: "confluent",
    registry,
    store,
  });
  const cframe = await confluent.encode(value);
  const id = cframe.readUInt32BE(1);
  const registered = JSON.parse(await registry.getById(id)) as unknown;
  const cread = await peer.must({
    op: "read",
    writer: registered,
    hex: cframe.toString("hex"),
    framing: "confluent",
    id,
  });
  expect(
    cread.value,
    `fastavro reads Sluice's Confluent frame: ${label}`,
  ).toEqual(typed);
  const cwritten = await peer.must({
    op: "write",
    schema: registered,
    value: typed,
    framing: "confluent",
    id,
  });
  expect(
    cwritten.hex,
    `fastavro writes the same Confluent bytes: ${label}`,
  ).toBe(cframe.toString("hex"));
  expect(
    toTyped(t, await confluent.decode(Buffer.from(cwritten.hex!, "hex"))),
  ).toEqual(typed);
  void mode;
}

describe.each(schemaDirs(avroAssetDir("schemas")))(
  "interop with fastavro: schemas in %s",
  (dir) => {
    it.each(["number", "bigint"] as const)(
      "agrees on fingerprints, bytes and values for random datums (longs: %s)",
      async (mode) => {
        const store = SchemaStore.load(dir, { longs: mode });
        const registry = new InMemorySchemaRegistry();
        const names = store.names();
        expect(names.length).toBeGreaterThan(0);
        const rnd = prng(SEED + (mode === "bigint" ? 1 : 0));
        const gen = generator(mode, rnd);
        for (const name of names) {
          const type = store.type(name);
          const pcf = await peer.must({
            op: "pcf",
            schema: store.schemaJson(type),
          });
          expect(pcf.pcf, name).toBe(canonicalForm(type));
          const fp = Buffer.alloc(8);
          fp.writeBigUInt64LE(fingerprintOf(type));
          expect(pcf.fp, name).toBe(fp.toString("hex"));
          for (let i = 0; i < DATUMS_PER_SCHEMA; i++)
            await roundTrip(
              store,
              type,
              mode,
              gen(type as unknown as AnyType, 0),
              registry,
            );
        }
      },
      // ~30 s on an idle 2-core machine; room for a loaded one
      600_000,
    );
  },
);

describe("interop with fastavro: deep nesting", () => {
  it.each(["number", "bigint"] as const)(
    "a recursive record 200 levels deep (longs: %s)",
    async (mode) => {
      const store = new SchemaStore(mode);
      const type = store.register(TREE);
      const value = deepTree(200);
      const coerced = fromTyped(
        type as unknown as AnyType,
        toTyped(type as unknown as AnyType, value),
        mode,
      );
      await roundTrip(store, type, mode, coerced, new InMemorySchemaRegistry());
    },
  );
});

/** Writer → reader pairs the spec's resolution rules allow; both implementations resolve alike. */
const EVOLUTION: readonly {
  readonly name: string;
  readonly writer: Record<string, unknown>;
  readonly reader: Record<string, unknown>;
  readonly values: readonly Record<string, unknown>[];
}[] = [
  {
    name: "int→long and a field added with a default",
    writer: {
      type: "record",
      name: "Ping",
      namespace: "dev.sluice.test.evo",
      fields: [{ name: "n", type: "int" }],
    },
    reader: {
      type: "record",
      name: "Ping",
      namespace: "dev.sluice.test.evo",
      fields: [
        { name: "n", type: "long" },
        { name: "label", type: "string", default: "none" },
      ],
    },
    values: [{ n: 2 ** 31 - 1 }, { n: -(2 ** 31) }, { n: 0 }],
  },
  {
    name: "a field removed, float→double, string→bytes",
    writer: {
      type: "record",
      name: "Reading",
      namespace: "dev.sluice.test.evo",
      fields: [
        { name: "gone", type: ["null", "long"] },
        { name: "x", type: "float" },
        { name: "s", type: "string" },
      ],
    },
    reader: {
      type: "record",
      name: "Reading",
      namespace: "dev.sluice.test.evo",
      fields: [
        { name: "x", type: "double" },
        { name: "s", type: "bytes" },
      ],
    },
    values: [
      { gone: 7, x: 1.5, s: "é" },
      { gone: null, x: -0, s: "" },
      { gone: Number.MAX_SAFE_INTEGER, x: NaN, s: "x" },
    ],
  },
  {
    name: "a symbol the reader lacks falls back to the enum default; a union gains a branch",
    writer: {
      type: "record",
      name: "Job",
      namespace: "dev.sluice.test.evo",
      fields: [
        {
          name: "state",
          type: {
            type: "enum",
            name: "State",
            symbols: ["UNKNOWN", "OPEN", "CLOSED"],
            default: "UNKNOWN",
          },
        },
        { name: "note", type: ["null", "string"] },
      ],
    },
    reader: {
      type: "record",
      name: "Job",
      namespace: "dev.sluice.test.evo",
      fields: [
        {
          name: "state",
          type: {
            type: "enum",
            name: "State",
            symbols: ["UNKNOWN", "OPEN"],
            default: "UNKNOWN",
          },
        },
        { name: "note", type: ["null", "string", "long"] },
      ],
    },
    values: [
      { state: "CLOSED", note: "x" },
      { state: "OPEN", note: null },
    ],
  },
];

describe("interop with fastavro: schema evolution", () => {
  it.each(EVOLUTION)("$name resolves alike, both directions", async (pair) => {
    const store = new SchemaStore();
    const writerType = store.register(pair.writer);
    const readerType = new SchemaStore().register(pair.reader);
    const writerCodec = createCodec(writerType, { store });
    const readerCodec = createCodec(readerType, { store });
    for (const value of pair.values) {
      const typed = toTyped(writerType as unknown as AnyType, value);
      // fastavro writes with the old schema, Sluice reads with the new
      const written = await peer.must({
        op: "write",
        schema: pair.writer,
        value: typed,
        framing: "single-object",
      });
      const sluice = readerCodec.decode(Buffer.from(written.hex!, "hex"));
      // fastavro's own resolution of the same bytes
      const resolved = await peer.must({
        op: "read",
        writer: pair.writer,
        reader: pair.reader,
        hex: written.hex,
        framing: "single-object",
      });
      expect(toTyped(readerType as unknown as AnyType, sluice)).toEqual(
        resolved.value,
      );
      // Sluice writes with the old schema, fastavro reads with the new
      const frame = writerCodec.encode(value);
      expect(frame.toString("hex")).toBe(written.hex);
      const read = await peer.must({
        op: "read",
        writer: pair.writer,
        reader: pair.reader,
        hex: frame.toString("hex"),
        framing: "single-object",
      });
      expect(read.value).toEqual(resolved.value);
    }
  });
});
