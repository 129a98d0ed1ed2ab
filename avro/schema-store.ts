/**
 * The local schema store: every `.avsc` under `avro/schemas/` (one named type per file) plus
 * any older or newer writer versions registered at run time, indexed by full name and by
 * CRC-64-AVRO fingerprint so single-object frames decode without a registry.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import avsc from "avsc";
import { SluiceError } from "./internal/sluice-error.js";
import { crc64Avro } from "./crc64.js";
import { avroParseOptions } from "./logical-types.js";
import type { LongMode } from "./longs.js";

/**
 * A schema as JSON (a parsed `.avsc`) or a primitive type name.
 *
 * @example
 * ```ts
 * const schema: AvroSchemaJson = { type: "record", name: "Ping", fields: [{ name: "n", type: "int" }] };
 * ```
 */
export type AvroSchemaJson =
  string | { readonly [key: string]: unknown } | readonly unknown[];

const PRIMITIVES = new Set([
  "null",
  "boolean",
  "int",
  "long",
  "float",
  "double",
  "bytes",
  "string",
]);

/**
 * Finds a folder that ships beside the Avro sources (`schemas`, `protocols`). From source the
 * folder sits next to this file; from `dist/avro/` it does not (the files are not compiled),
 * so the repository root is found by walking up until `avro/<folder>` exists.
 *
 * @example
 * ```ts
 * const dir = avroAssetDir("schemas"); // /…/sluice/avro/schemas
 * ```
 */
export function avroAssetDir(folder: "schemas" | "protocols"): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const beside = join(here, folder);
  if (existsSync(beside)) return beside;
  let dir = here;
  for (;;) {
    const candidate = join(dir, "avro", folder);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir)
      throw new SluiceError(
        "CONFIG",
        `cannot find avro/${folder} above ${here}`,
      );
    dir = parent;
  }
}

/**
 * Parsing Canonical Form of a type (avsc's `schema()` output is exactly the spec's PCF).
 *
 * @example
 * ```ts
 * canonicalForm(store.type("dev.sluice.common.Money")); // {"name":"dev.sluice.common.Money","type":"record",…}
 * ```
 */
export function canonicalForm(type: avsc.Type): string {
  return JSON.stringify(type.schema());
}

/**
 * The CRC-64-AVRO fingerprint of a type's Parsing Canonical Form, as an unsigned `bigint`.
 *
 * @example
 * ```ts
 * fingerprintOf(store.type("dev.sluice.reviews.Review")); // 0x…n
 * ```
 */
export function fingerprintOf(type: avsc.Type): bigint {
  return crc64Avro(canonicalForm(type));
}

/** Full name of a named schema given its enclosing namespace, per the spec's name rules. */
function fullName(name: string, namespace: string | undefined): string {
  return name.includes(".") || !namespace ? name : `${namespace}.${name}`;
}

interface Scan {
  readonly defines: string[];
  readonly references: Set<string>;
  /** The JSON node of each named type defined, by full name. */
  readonly nodes?: Map<string, Record<string, unknown>>;
}

/** Collects the named types a schema defines and the names it refers to. */
function scan(schema: unknown, namespace: string | undefined, out: Scan): void {
  if (typeof schema === "string") {
    if (!PRIMITIVES.has(schema))
      out.references.add(fullName(schema, namespace));
    return;
  }
  if (Array.isArray(schema)) {
    for (const branch of schema) scan(branch, namespace, out);
    return;
  }
  if (schema === null || typeof schema !== "object") return;
  const node = schema as Record<string, unknown>;
  const type = node["type"];
  if (
    type === "record" ||
    type === "error" ||
    type === "enum" ||
    type === "fixed"
  ) {
    const name = typeof node["name"] === "string" ? node["name"] : "";
    const ns =
      typeof node["namespace"] === "string" ? node["namespace"] : namespace;
    const full = fullName(name, ns);
    out.defines.push(full);
    out.nodes?.set(full, node);
    const inner = full.includes(".")
      ? full.slice(0, full.lastIndexOf("."))
      : undefined;
    if (Array.isArray(node["fields"])) {
      for (const field of node["fields"] as unknown[]) {
        scan((field as Record<string, unknown>)["type"], inner, out);
      }
    }
    return;
  }
  if (type === "array") return scan(node["items"], namespace, out);
  if (type === "map") return scan(node["values"], namespace, out);
  scan(type, namespace, out);
}

function parse(
  schema: AvroSchemaJson,
  registry: Record<string, avsc.Type>,
  longs: LongMode,
): avsc.Type {
  return avsc.Type.forSchema(schema as avsc.Schema, {
    registry,
    ...avroParseOptions(longs),
  });
}

const NAMED = new Set(["record", "error", "enum", "fixed"]);

/**
 * The schema as written, made self-contained: each reference to a named type defined
 * elsewhere is replaced, at its first occurrence, by that type's JSON as written (with its
 * namespace made explicit), so a registry or another implementation can parse it alone.
 * Every attribute stays (logical types with their parameters, enum defaults, aliases, docs).
 */
function selfContained(
  schema: unknown,
  lookup: (fullName: string) => Record<string, unknown> | undefined,
): unknown {
  const defined = new Set<string>();
  const visit = (node: unknown, ns: string | undefined): unknown => {
    if (typeof node === "string") {
      if (PRIMITIVES.has(node)) return node;
      const full = fullName(node, ns);
      if (defined.has(full)) return node;
      const def = lookup(full);
      if (def === undefined) return node; // the parser reports it
      const name = typeof def["name"] === "string" ? def["name"] : "";
      const explicit =
        name.includes(".") || typeof def["namespace"] === "string"
          ? def
          : {
              ...def,
              namespace: full.includes(".")
                ? full.slice(0, full.lastIndexOf("."))
                : "",
            };
      return visit(explicit, ns);
    }
    if (Array.isArray(node)) return node.map((branch) => visit(branch, ns));
    if (node === null || typeof node !== "object") return node;
    const obj = node as Record<string, unknown>;
    const type = obj["type"];
    if (typeof type === "string" && NAMED.has(type)) {
      const name = typeof obj["name"] === "string" ? obj["name"] : "";
      const own = typeof obj["namespace"] === "string" ? obj["namespace"] : ns;
      const full = fullName(name, own);
      defined.add(full);
      if (!Array.isArray(obj["fields"])) return obj;
      const inner = full.includes(".")
        ? full.slice(0, full.lastIndexOf("."))
        : undefined;
      return {
        ...obj,
        fields: (obj["fields"] as Record<string, unknown>[]).map((f) => ({
          ...f,
          type: visit(f["type"], inner),
        })),
      };
    }
    if (type === "array") return { ...obj, items: visit(obj["items"], ns) };
    if (type === "map") return { ...obj, values: visit(obj["values"], ns) };
    if (typeof type === "string" && PRIMITIVES.has(type)) return obj;
    return { ...obj, type: visit(type, ns) };
  };
  return visit(schema, undefined);
}

/**
 * Named Avro types by full name and every known writer version by fingerprint.
 *
 * @example
 * ```ts
 * const store = SchemaStore.load();            // all avro/schemas/*.avsc
 * store.register(olderReviewSchema);           // a writer version still on the wire
 * const review = store.type("dev.sluice.reviews.Review");
 * ```
 */
export class SchemaStore {
  private readonly registry: Record<string, avsc.Type> = {};
  private readonly byFp = new Map<bigint, avsc.Type>();
  private readonly files = new Map<string, string>();
  /** Each named type of the files, as written, by full name. */
  private readonly defs = new Map<string, Record<string, unknown>>();
  /** The self-contained JSON (as written) of each known schema, by fingerprint. */
  private readonly jsonByFp = new Map<bigint, unknown>();
  /** What built this store, in order, so a twin in another long mode can be built alike. */
  private readonly history: {
    readonly file?: string;
    readonly json: unknown;
  }[] = [];
  /** This store and its twins in other long modes; registering on one registers on all. */
  private family: SchemaStore[] = [this];

  /**
   * A store parsing `long` as `longs` (default `"number"`; see `LongMode`).
   *
   * @example
   * ```ts
   * const store = new SchemaStore("bigint");
   * ```
   */
  constructor(readonly longs: LongMode = "number") {}

  /**
   * Loads every `.avsc` in a folder (default: `avro/schemas`), ordering files so that a type
   * is parsed after the types it references in other files.
   *
   * @example
   * ```ts
   * const store = SchemaStore.load();
   * const exact = SchemaStore.load(undefined, { longs: "bigint" });
   * ```
   */
  static load(
    dir: string = avroAssetDir("schemas"),
    options: { readonly longs?: LongMode } = {},
  ): SchemaStore {
    const store = new SchemaStore(options.longs);
    const pending = new Map<
      string,
      { file: string; json: unknown; scan: Scan }
    >();
    for (const file of readdirSync(dir)
      .filter((f) => f.endsWith(".avsc"))
      .sort()) {
      const path = join(dir, file);
      let json: unknown;
      try {
        json = JSON.parse(readFileSync(path, "utf8"));
      } catch (cause) {
        throw new SluiceError("CONFIG", `${file} is not valid JSON`, { cause });
      }
      const found: Scan = { defines: [], references: new Set() };
      scan(json, undefined, found);
      const [name, ...extra] = found.defines;
      if (name === undefined || extra.length > 0) {
        throw new SluiceError(
          "CONFIG",
          `${file} must define exactly one named type, found ${found.defines.length}`,
        );
      }
      pending.set(name, { file, json, scan: found });
    }
    while (pending.size > 0) {
      let progressed = false;
      for (const [name, entry] of pending) {
        const missing = [...entry.scan.references].filter(
          (ref) => ref !== name && !(ref in store.registry),
        );
        if (missing.some((ref) => !pending.has(ref))) {
          const unknown = missing.filter((ref) => !pending.has(ref));
          throw new SluiceError(
            "CONFIG",
            `${entry.file} references ${unknown.join(", ")}, which no .avsc defines`,
          );
        }
        if (missing.length > 0) continue;
        store.addFile(entry.file, entry.json);
        pending.delete(name);
        progressed = true;
      }
      if (!progressed) {
        throw new SluiceError(
          "CONFIG",
          `circular references between ${[...pending.values()].map((p) => p.file).join(", ")}`,
        );
      }
    }
    return store;
  }

  /** Adds a current (reader) schema from a file; its named types become resolvable by later schemas. */
  private addFile(file: string, json: unknown): void {
    const found: Scan = {
      defines: [],
      references: new Set(),
      nodes: new Map(),
    };
    scan(json, undefined, found);
    let type: avsc.Type;
    try {
      type = parse(json as AvroSchemaJson, this.registry, this.longs);
    } catch (cause) {
      throw new SluiceError("CONFIG", `${file}: ${(cause as Error).message}`, {
        cause,
      });
    }
    for (const [name, node] of found.nodes ?? []) this.defs.set(name, node);
    const fp = fingerprintOf(type);
    this.byFp.set(fp, type);
    this.jsonByFp.set(
      fp,
      selfContained(json, (n) => this.defs.get(n)),
    );
    for (const name of found.defines) this.files.set(name, file);
    this.history.push({ file, json });
  }

  /**
   * The same schemas parsed with another long mode. Twins share registrations: a writer
   * version registered on one is known to all.
   *
   * @example
   * ```ts
   * const exact = defaultSchemaStore().withLongs("bigint");
   * ```
   */
  withLongs(longs: LongMode): SchemaStore {
    const found = this.family.find((s) => s.longs === longs);
    if (found !== undefined) return found;
    const twin = new SchemaStore(longs);
    for (const { file, json } of this.history) {
      if (file !== undefined) twin.addFile(file, json);
      else twin.registerOne(json, undefined);
    }
    this.family.push(twin);
    twin.family = this.family;
    return twin;
  }

  /**
   * Registers another writer version of a schema (older or newer than ours) so frames written
   * with it can be decoded. Named types it references resolve against the store; its own name
   * does not clash with the current version. Returns the parsed writer type.
   *
   * @example
   * ```ts
   * store.register({ type: "record", name: "Review", namespace: "dev.sluice.reviews", fields: [...] });
   * ```
   */
  register(schema: AvroSchemaJson | avsc.Type): avsc.Type {
    const given = avsc.Type.isType(schema) ? (schema as avsc.Type) : undefined;
    const json: unknown = given?.schema({ exportAttrs: true }) ?? schema;
    let own: avsc.Type | undefined;
    for (const member of this.family) {
      // The caller's own store keeps a given Type as it is; twins re-parse it in their mode.
      const type = member.registerOne(
        json,
        member === this ? given : undefined,
      );
      if (member === this) own = type;
    }
    return own as avsc.Type;
  }

  private registerOne(json: unknown, given: avsc.Type | undefined): avsc.Type {
    const type = given ?? this.registerJson(json);
    const fp = fingerprintOf(type);
    if (!this.byFp.has(fp)) {
      this.byFp.set(fp, type);
      this.history.push({ json });
    }
    if (!this.jsonByFp.has(fp))
      this.jsonByFp.set(
        fp,
        selfContained(json, (n) => this.defs.get(n)),
      );
    return this.byFp.get(fp) ?? type;
  }

  private registerJson(schema: unknown): avsc.Type {
    const found: Scan = { defines: [], references: new Set() };
    scan(schema, undefined, found);
    const registry = { ...this.registry };
    for (const name of found.defines) delete registry[name];
    return parse(schema as AvroSchemaJson, registry, this.longs);
  }

  /**
   * The schema of a type as written, self-contained (named types from other files inlined
   * at first use): what a registry should store and other implementations parse. Its Parsing
   * Canonical Form is the type's. Falls back to avsc's export for types the store never saw.
   *
   * @example
   * ```ts
   * JSON.stringify(store.schemaJson(store.type("dev.sluice.common.Money"))); // keeps precision, scale
   * ```
   */
  schemaJson(type: avsc.Type): unknown {
    return (
      this.jsonByFp.get(fingerprintOf(type)) ??
      type.schema({ exportAttrs: true })
    );
  }

  /**
   * The current type with this full name (or short name when it is unambiguous).
   *
   * @example
   * ```ts
   * store.type("dev.sluice.eshop.OrderStarted");
   * ```
   */
  type(name: string): avsc.Type {
    const exact = this.registry[name];
    if (exact) return exact;
    const matches = Object.keys(this.registry).filter((full) =>
      full.endsWith(`.${name}`),
    );
    const [only, ...others] = matches;
    if (only !== undefined && others.length === 0)
      return this.registry[only] as avsc.Type;
    throw new SluiceError(
      "NOT_FOUND",
      matches.length > 1
        ? `schema name ${name} is ambiguous: ${matches.join(", ")}`
        : `no schema named ${name} in the store`,
    );
  }

  /** The writer type with this CRC-64-AVRO fingerprint, if any version is known. */
  byFingerprint(fingerprint: bigint): avsc.Type | undefined {
    return this.byFp.get(fingerprint);
  }

  /** Full names of all current named types, sorted. */
  names(): string[] {
    return Object.keys(this.registry)
      .filter((name) => !PRIMITIVES.has(name))
      .sort();
  }

  /** The `.avsc` file a named type was loaded from, when it came from a file. */
  fileOf(name: string): string | undefined {
    return this.files.get(name);
  }
}

let defaultStore: SchemaStore | undefined;

/**
 * The process-wide store of all `avro/schemas/*.avsc`, loaded once on first use.
 *
 * @example
 * ```ts
 * const review = defaultSchemaStore().type("dev.sluice.reviews.Review");
 * ```
 */
export function defaultSchemaStore(): SchemaStore {
  defaultStore ??= SchemaStore.load();
  return defaultStore;
}
