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
import { sluiceLogicalTypes } from "./logical-types.js";

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
): avsc.Type {
  return avsc.Type.forSchema(schema as avsc.Schema, {
    registry,
    logicalTypes: sluiceLogicalTypes,
  });
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

  /**
   * Loads every `.avsc` in a folder (default: `avro/schemas`), ordering files so that a type
   * is parsed after the types it references in other files.
   *
   * @example
   * ```ts
   * const store = SchemaStore.load();
   * ```
   */
  static load(dir: string = avroAssetDir("schemas")): SchemaStore {
    const store = new SchemaStore();
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
        try {
          store.add(entry.json as AvroSchemaJson);
        } catch (cause) {
          throw new SluiceError(
            "CONFIG",
            `${entry.file}: ${(cause as Error).message}`,
            { cause },
          );
        }
        store.files.set(name, entry.file);
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

  /** Adds a current (reader) schema; its named types become resolvable by later schemas. */
  private add(schema: AvroSchemaJson): avsc.Type {
    const type = parse(schema, this.registry);
    this.byFp.set(fingerprintOf(type), type);
    return type;
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
    let type: avsc.Type;
    if (avsc.Type.isType(schema)) {
      type = schema as avsc.Type;
    } else {
      const found: Scan = { defines: [], references: new Set() };
      scan(schema, undefined, found);
      const registry = { ...this.registry };
      for (const name of found.defines) delete registry[name];
      type = parse(schema as AvroSchemaJson, registry);
    }
    const fp = fingerprintOf(type);
    if (!this.byFp.has(fp)) this.byFp.set(fp, type);
    return this.byFp.get(fp) ?? type;
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
    return Object.keys(this.registry).sort();
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
