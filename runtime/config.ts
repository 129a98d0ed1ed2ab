import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { inspect } from "node:util";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { SluiceError } from "../operators/sluice-error.js";
import { LOG_LEVELS } from "./log.js";

/**
 * A secret value (password, API key): prints as `***` in logs, JSON and `inspect`;
 * `reveal()` gives the value to the client that needs it.
 *
 * @example
 * ```ts
 * const apiKey = ctx.config.apiKey; // a Secret from { file: "/var/run/secrets/enrich/api-key" }
 * fetch(url, { headers: { authorization: `Bearer ${apiKey.reveal()}` } });
 * ```
 */
export class Secret {
  readonly #value: string;
  /** Where the value came from (`"file /var/run/…"`, `"env API_KEY"`, `"inline"`), printable. */
  readonly origin: string;
  constructor(value: string, origin: string) {
    this.#value = value;
    this.origin = origin;
  }
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return "***";
  }
  toJSON(): string {
    return "***";
  }
  [inspect.custom](): string {
    return `Secret(*** from ${this.origin})`;
  }
}

/** The environment secrets are resolved against, set only while {@link loadConfig} parses. */
let secretEnv: NodeJS.ProcessEnv = process.env;

/**
 * Schema of a secret: an inline string, `{ file: path }` (a Kubernetes Secret mounted as a
 * file; trailing newline trimmed) or `{ env: NAME }`. Parses to a {@link Secret}; the value
 * never appears in an error message.
 *
 * @example
 * ```ts
 * const schema = z.object({ apiKey: secret() });
 * // config.yaml:  apiKey: { file: /var/run/secrets/enrich/api-key }
 * ```
 */
export function secret(): z.ZodType<Secret, unknown> {
  return z
    .union([
      z.string().min(1, "must not be empty"),
      z.object({ file: z.string().min(1) }).strict(),
      z.object({ env: z.string().min(1) }).strict(),
    ])
    .transform((v, ctx) => {
      if (typeof v === "string") return new Secret(v, "inline");
      if ("file" in v) {
        try {
          const text = readFileSync(v.file, "utf8").replace(/\r?\n$/, "");
          if (text === "") {
            ctx.addIssue({
              code: "custom",
              message: `must not be empty (file ${v.file} is empty)`,
            });
            return z.NEVER;
          }
          return new Secret(text, `file ${v.file}`);
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code ?? "unreadable";
          ctx.addIssue({
            code: "custom",
            message: `must name a readable file (${v.file}: ${code})`,
          });
          return z.NEVER;
        }
      }
      const value = secretEnv[v.env];
      if (value === undefined || value === "") {
        ctx.addIssue({
          code: "custom",
          message: `must name a set environment variable (${v.env} is not set)`,
        });
        return z.NEVER;
      }
      return new Secret(value, `env ${v.env}`);
    });
}

const nonEmptyList = z
  .array(z.string().min(1, "must not hold empty strings"))
  .min(1, "must be a non-empty list");
const positiveMs = z.number().int().positive("must be a positive integer");

/** The runtime's part of a job's config (the job's own part is under `job`). */
export const runtimeConfigSchema = z
  .object({
    /** Lowest log level written. */
    logLevel: z.enum(LOG_LEVELS).default("info"),
    http: z
      .object({
        /** Port of `/metrics`, `/healthz`, `/readyz`; 0 picks a free one. */
        port: z.number().int().min(0).max(65535).default(9464),
        host: z.string().min(1).default("0.0.0.0"),
      })
      .strict()
      .prefault({}),
    /** How long a shutdown may take (drain, final checkpoint, close) before it gives up. */
    shutdownTimeoutMs: positiveMs.default(30_000),
    checkpoint: z
      .object({
        intervalMs: z.number().int().min(0).default(10_000),
        barrierTimeoutMs: positiveMs.default(5_000),
        store: z.enum(["memory", "postgres", "cassandra"]).default("memory"),
      })
      .strict()
      .prefault({}),
    kafka: z
      .object({
        brokers: nonEmptyList,
        clientId: z.string().min(1).optional(),
      })
      .strict()
      .optional(),
    postgres: z
      .object({ url: secret(), schema: z.string().min(1).default("sluice") })
      .strict()
      .optional(),
    cassandra: z
      .object({
        contactPoints: nonEmptyList,
        localDc: z.string().min(1).default("datacenter1"),
        keyspace: z.string().min(1).default("sluice"),
        /** Replicas of each keyspace a job creates (SimpleStrategy): 1 on one node, 3 on a ring. */
        replicationFactor: z.number().int().positive().default(1),
        username: z.string().min(1).optional(),
        password: secret().optional(),
      })
      .strict()
      .optional(),
    memcached: z.object({ servers: nonEmptyList }).strict().optional(),
    /** Named secrets for the job: `secrets.apiKey.reveal()`. */
    secrets: z.record(z.string(), secret()).default({}),
    /** The job's own settings, validated by the job's schema. */
    job: z.unknown().optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.checkpoint.store === "postgres" && c.postgres === undefined)
      ctx.addIssue({
        code: "custom",
        path: ["postgres", "url"],
        message:
          "must be set when checkpoint.store is postgres (or set DATABASE_URL)",
      });
    if (c.checkpoint.store === "cassandra" && c.cassandra === undefined)
      ctx.addIssue({
        code: "custom",
        path: ["cassandra", "contactPoints"],
        message:
          "must be set when checkpoint.store is cassandra (or set CASSANDRA_CONTACT_POINTS)",
      });
  });

/** The validated runtime config. */
export type RuntimeConfig = Omit<z.output<typeof runtimeConfigSchema>, "job">;

/** How one environment variable maps onto a config field. */
export interface EnvMapping {
  readonly env: string;
  /** Dotted path in the config. */
  readonly path: string;
  /** `list`: comma-separated; `number`: parsed when numeric. */
  readonly kind: "string" | "number" | "list";
}

/**
 * The environment variables the runtime reads, applied in this order over the file (so the
 * `SLUICE_` name wins over the stack's plain one). Besides these, `SLUICE_JOB__A__B_C=v` sets
 * `job.a.bC` (the value parsed as JSON when it is JSON, else a string) and
 * `SLUICE_SECRETS__API_KEY=v` sets the secret `secrets.apiKey`.
 */
export const ENV_MAPPINGS: readonly EnvMapping[] = [
  { env: "SLUICE_LOG_LEVEL", path: "logLevel", kind: "string" },
  { env: "SLUICE_HTTP_PORT", path: "http.port", kind: "number" },
  { env: "SLUICE_HTTP_HOST", path: "http.host", kind: "string" },
  {
    env: "SLUICE_SHUTDOWN_TIMEOUT_MS",
    path: "shutdownTimeoutMs",
    kind: "number",
  },
  {
    env: "SLUICE_CHECKPOINT_INTERVAL_MS",
    path: "checkpoint.intervalMs",
    kind: "number",
  },
  {
    env: "SLUICE_CHECKPOINT_BARRIER_TIMEOUT_MS",
    path: "checkpoint.barrierTimeoutMs",
    kind: "number",
  },
  { env: "SLUICE_CHECKPOINT_STORE", path: "checkpoint.store", kind: "string" },
  { env: "KAFKA_BROKERS", path: "kafka.brokers", kind: "list" },
  { env: "SLUICE_KAFKA_BROKERS", path: "kafka.brokers", kind: "list" },
  { env: "SLUICE_KAFKA_CLIENT_ID", path: "kafka.clientId", kind: "string" },
  { env: "DATABASE_URL", path: "postgres.url", kind: "string" },
  { env: "SLUICE_POSTGRES_URL", path: "postgres.url", kind: "string" },
  { env: "SLUICE_POSTGRES_SCHEMA", path: "postgres.schema", kind: "string" },
  {
    env: "CASSANDRA_CONTACT_POINTS",
    path: "cassandra.contactPoints",
    kind: "list",
  },
  {
    env: "SLUICE_CASSANDRA_CONTACT_POINTS",
    path: "cassandra.contactPoints",
    kind: "list",
  },
  { env: "CASSANDRA_LOCAL_DC", path: "cassandra.localDc", kind: "string" },
  {
    env: "SLUICE_CASSANDRA_LOCAL_DC",
    path: "cassandra.localDc",
    kind: "string",
  },
  {
    env: "SLUICE_CASSANDRA_KEYSPACE",
    path: "cassandra.keyspace",
    kind: "string",
  },
  {
    env: "SLUICE_CASSANDRA_REPLICATION_FACTOR",
    path: "cassandra.replicationFactor",
    kind: "number",
  },
  {
    env: "SLUICE_CASSANDRA_USERNAME",
    path: "cassandra.username",
    kind: "string",
  },
  {
    env: "SLUICE_CASSANDRA_PASSWORD",
    path: "cassandra.password",
    kind: "string",
  },
  { env: "MEMCACHED_SERVERS", path: "memcached.servers", kind: "list" },
  { env: "SLUICE_MEMCACHED_SERVERS", path: "memcached.servers", kind: "list" },
];

/** Bad config: every problem, each naming the field and where its value came from. */
export class ConfigError extends SluiceError {
  /** One line per problem: `config.yaml: kafka.brokers must be a non-empty list`. */
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(
      "CONFIG",
      problems.length === 1
        ? problems[0]!
        : `invalid config:\n  ${problems.join("\n  ")}`,
    );
    this.problems = problems;
  }
}

/** Options of {@link loadConfig}. */
export interface LoadConfigOptions<S extends z.ZodType> {
  /** A YAML or JSON file (JSON is YAML). Optional: env and defaults may be enough. */
  readonly file?: string;
  /** Default `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
  /** Schema of the `job` section. Default: anything (left `undefined` when absent). */
  readonly jobSchema?: S;
}

/** A loaded, validated config. */
export interface LoadedConfig<J> {
  readonly runtime: RuntimeConfig;
  /** The `job` section, parsed by the job's schema. */
  readonly job: J;
}

type Plain = { [key: string]: unknown };

const isPlain = (v: unknown): v is Plain =>
  typeof v === "object" && v !== null && !Array.isArray(v);

function setPath(target: Plain, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (isPlain(next)) node = next;
    else {
      const created: Plain = {};
      node[key] = created;
      node = created;
    }
  }
  node[path[path.length - 1]!] = value;
}

const camel = (s: string): string =>
  s.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

function envValue(raw: string, kind: EnvMapping["kind"] | "json"): unknown {
  if (kind === "list")
    return raw
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== "");
  if (kind === "number") {
    const n = Number(raw);
    return raw.trim() !== "" && Number.isFinite(n) ? n : raw;
  }
  if (kind === "json") {
    try {
      const parsed = JSON.parse(raw) as unknown;
      // A number JSON cannot hold exactly (a 20-digit id) stays the string it was.
      if (
        typeof parsed === "number" &&
        !Number.isSafeInteger(parsed) &&
        /^-?\d+$/.test(raw.trim())
      )
        return raw;
      return parsed;
    } catch {
      return raw;
    }
  }
  return raw;
}

/**
 * Reads a job's config: the file (YAML or JSON), then the environment over it (see
 * {@link ENV_MAPPINGS}), validated with zod — the runtime's part by
 * {@link runtimeConfigSchema}, the `job` section by the job's schema. Throws a
 * {@link ConfigError} listing every problem with its field and source
 * (`config.yaml: kafka.brokers must be a non-empty list`,
 * `env SLUICE_HTTP_PORT: http.port: Invalid input: expected number, received string`).
 * Secrets are resolved here and never printed: log `redact(config)`.
 *
 * @example
 * ```ts
 * const { runtime, job } = loadConfig({ file: "config.yaml", jobSchema: z.object({ topic: z.string() }) });
 * logger.info("config", { config: redact(runtime) });
 * ```
 */
export function loadConfig<S extends z.ZodType = z.ZodUnknown>(
  options: LoadConfigOptions<S> = {},
): LoadedConfig<z.output<S>> {
  const env = options.env ?? process.env;
  const fileName =
    options.file === undefined ? "defaults" : basename(options.file);
  let raw: Plain = {};
  if (options.file !== undefined) {
    let text: string;
    try {
      text = readFileSync(options.file, "utf8");
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? "unreadable";
      throw new ConfigError([
        `${options.file}: cannot read the file (${code})`,
      ]);
    }
    let parsed: unknown;
    try {
      parsed = parseYaml(text);
    } catch (error) {
      throw new ConfigError([
        `${fileName}: not valid YAML or JSON (${error instanceof Error ? error.message.split("\n")[0] : "parse error"})`,
      ]);
    }
    if (parsed !== null && parsed !== undefined && !isPlain(parsed))
      throw new ConfigError([`${fileName}: must hold a mapping at the top`]);
    raw = (parsed as Plain | null) ?? {};
  }

  const origins = new Map<string, string>();
  for (const m of ENV_MAPPINGS) {
    const v = env[m.env];
    if (v === undefined || v.trim() === "") continue;
    setPath(raw, m.path.split("."), envValue(v, m.kind));
    origins.set(m.path, `env ${m.env}`);
  }
  for (const [name, v] of Object.entries(env)) {
    if (v === undefined) continue;
    const job = /^SLUICE_JOB__(.+)$/.exec(name);
    const sec = /^SLUICE_SECRETS__(.+)$/.exec(name);
    if (job !== null) {
      const path = ["job", ...job[1]!.split("__").map(camel)];
      setPath(raw, path, envValue(v, "json"));
      origins.set(path.join("."), `env ${name}`);
    } else if (sec !== null) {
      const path = ["secrets", camel(sec[1]!)];
      setPath(raw, path, v);
      origins.set(path.join("."), `env ${name}`);
    }
  }

  const sourceOf = (path: readonly PropertyKey[]): string => {
    for (let i = path.length; i > 0; i--) {
      const o = origins.get(path.slice(0, i).map(String).join("."));
      if (o !== undefined) return o;
    }
    return fileName;
  };
  const describe = (issue: z.core.$ZodIssue, prefix: string[]): string => {
    const path = [...prefix, ...issue.path.map(String)];
    const field = path.length > 0 ? path.join(".") : "(top level)";
    const sep = issue.message.startsWith("must") ? " " : ": ";
    return `${sourceOf(path)}: ${field}${sep}${issue.message}`;
  };

  const previousEnv = secretEnv;
  secretEnv = env;
  try {
    const problems: string[] = [];
    const runtime = runtimeConfigSchema.safeParse(raw);
    if (!runtime.success)
      for (const i of runtime.error.issues) problems.push(describe(i, []));
    const schema = options.jobSchema ?? z.unknown();
    const job = schema.safeParse(
      raw["job"] ?? (options.jobSchema ? {} : undefined),
    );
    if (!job.success)
      for (const i of job.error.issues) problems.push(describe(i, ["job"]));
    if (problems.length > 0 || !runtime.success || !job.success)
      throw new ConfigError(problems);
    const { job: _ignored, ...rest } = runtime.data;
    return { runtime: rest, job: job.data as z.output<S> };
  } finally {
    secretEnv = previousEnv;
  }
}

const SECRET_KEY = /pass(word)?|secret|token|api[-_]?key|credential/i;

function redactString(s: string): string {
  if (!s.includes("://")) return s;
  try {
    const u = new URL(s);
    if (u.password === "") return s;
    u.password = "***";
    return u.toString();
  } catch {
    return s;
  }
}

/**
 * A copy of a config that is safe to log: {@link Secret}s become `***`, so do strings
 * under keys that look secret (`password`, `token`, `apiKey`, …), and passwords inside URLs
 * (`postgres://sluice:***@db:5432/sluice`).
 *
 * @example
 * ```ts
 * logger.info("effective config", { config: redact(runtime) });
 * ```
 */
export function redact(value: unknown): unknown {
  if (value instanceof Secret) {
    return redactString(value.reveal()) === value.reveal()
      ? "***"
      : redactString(value.reveal());
  }
  if (typeof value === "string") return redactString(value);
  if (Array.isArray(value)) return value.map(redact);
  if (isPlain(value)) {
    const out: Plain = {};
    for (const [k, v] of Object.entries(value))
      out[k] =
        SECRET_KEY.test(k) && (typeof v === "string" || v instanceof Secret)
          ? "***"
          : redact(v);
    return out;
  }
  return value;
}
