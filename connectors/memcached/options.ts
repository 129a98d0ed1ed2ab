import { DEFAULT_OUTAGE_DEADLINE_MS } from "../internal/retry.js";
import { z } from "zod";
import type { DedupeStore } from "../../operators/dedupe.js";
import { SluiceError } from "../../operators/sluice-error.js";

/** Options of {@link memcachedDedupeStore}; times in milliseconds. */
export interface MemcachedDedupeStoreOptions {
  /** `host:port` of each server. Without `replicate`, keys are spread over them (memjs hashing). */
  readonly servers: readonly string[];
  /**
   * EVCache-style replicas: every server holds a full copy. Writes go to all of them; reads
   * and claims go to the first that answers, in order.
   */
  readonly replicate?: boolean;
  /** Prefix of every key, so several jobs share a server safely. Default `sluice:dedupe:`. */
  readonly keyPrefix?: string;
  /** Time allowed for one call to one server. Default 500. */
  readonly timeoutMs?: number;
  /** Time allowed to connect to a server. Default 2 × `timeoutMs`. */
  readonly connectTimeoutMs?: number;
  /** SASL user, when the servers require it. */
  readonly username?: string;
  /** SASL password; a secret: never printed. */
  readonly password?: string;
  /**
   * The store of record, asked when memcached has no entry or does not answer (for example
   * the Cassandra dedupe store). Without it, a memcached outage fails the claim.
   */
  readonly authoritative?: DedupeStore;
  /** Name in errors. Default `memcached-dedupe`. */
  readonly name?: string;
  /**
   * Without `authoritative`: how long memcached may stay unreachable (a restart) before a
   * claim, confirm or release gives up; retried with backoff until then, readiness false
   * meanwhile. Default 60 000.
   */
  readonly outageDeadlineMs?: number;
}

/** {@link MemcachedDedupeStoreOptions} with defaults applied. */
export interface ResolvedMemcachedDedupeStoreOptions {
  readonly servers: readonly string[];
  readonly replicate: boolean;
  readonly keyPrefix: string;
  readonly timeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly username: string | undefined;
  readonly password: string | undefined;
  readonly authoritative: DedupeStore | undefined;
  readonly name: string;
  readonly outageDeadlineMs: number;
}

const server = z
  .string()
  .regex(/^[A-Za-z0-9.\-_[\]:]+:\d{1,5}$/, "must be host:port");
const schema = z
  .object({
    servers: z.array(server).min(1),
    replicate: z.boolean().optional(),
    keyPrefix: z
      .string()
      .max(64)
      .regex(/^[\x21-\x7e]*$/, "must be printable ASCII without spaces")
      .optional(),
    timeoutMs: z.number().int().min(1).optional(),
    connectTimeoutMs: z.number().int().min(1).optional(),
    outageDeadlineMs: z.number().int().min(1).optional(),
    username: z.string().min(1).optional(),
    password: z.string().min(1).optional(),
    authoritative: z
      .custom<DedupeStore>(
        (v) =>
          typeof v === "object" &&
          v !== null &&
          ["claim", "confirm", "release"].every(
            (m) => typeof (v as Record<string, unknown>)[m] === "function",
          ),
        { message: "must be a DedupeStore (claim, confirm, release)" },
      )
      .optional(),
    name: z.string().min(1).optional(),
  })
  .strict();

/**
 * Validates and defaults the store's options once; a bad option throws a CONFIG error
 * naming the field (never its value, so a password cannot leak).
 *
 * @example
 * ```ts
 * resolveMemcachedDedupeStoreOptions({ servers: ["127.0.0.1"] });
 * // throws: memcached.servers.0: must be host:port
 * ```
 */
export function resolveMemcachedDedupeStoreOptions(
  options: MemcachedDedupeStoreOptions,
): ResolvedMemcachedDedupeStoreOptions {
  const parsed = schema.safeParse(options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue === undefined ? "" : issue.path.map(String).join(".");
    throw new SluiceError(
      "CONFIG",
      `memcached${field === "" ? "" : `.${field}`}: ${issue?.message ?? "invalid options"}`,
      { context: { field } },
    );
  }
  const o = parsed.data;
  if ((o.username === undefined) !== (o.password === undefined))
    throw new SluiceError(
      "CONFIG",
      "memcached.password: username and password go together",
      { context: { field: "password" } },
    );
  const timeoutMs = o.timeoutMs ?? 500;
  return {
    servers: o.servers,
    replicate: o.replicate ?? false,
    keyPrefix: o.keyPrefix ?? "sluice:dedupe:",
    timeoutMs,
    connectTimeoutMs: o.connectTimeoutMs ?? 2 * timeoutMs,
    username: o.username,
    password: o.password,
    authoritative: options.authoritative,
    name: o.name ?? "memcached-dedupe",
    outageDeadlineMs: o.outageDeadlineMs ?? DEFAULT_OUTAGE_DEADLINE_MS,
  };
}
