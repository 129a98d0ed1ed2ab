import { z } from "zod";
import {
  createPostgresPool,
  type PostgresPool,
} from "../../../connectors/postgres/index.js";
import {
  ConfigError,
  secret,
  type RuntimeConfig,
} from "../../../runtime/config.js";
import type { ServiceEndpoint } from "../clients.js";
import { DEFAULT_TOPICS } from "../types.js";

const identifier = z
  .string()
  .regex(/^[a-z][a-z0-9_]{0,47}$/, "must match [a-z][a-z0-9_]{0,47}");

/**
 * The `job` config shared by the outreach jobs. The API key is a secret: inline, `{ file }`
 * (a mounted Kubernetes Secret) or `{ env }`; it prints as `***` everywhere.
 *
 * ```yaml
 * job:
 *   enabled: true
 *   apiKey: { file: /var/run/secrets/outreach/api-key }
 *   segmentServiceUrl: https://bar.internal
 *   jobServiceUrl: https://icee.internal
 *   outreachServiceUrl: https://outreach.internal
 * ```
 */
export const outreachConfig = {
  /** The feature flag: false → firings are skipped, nothing is sent. */
  enabled: z.boolean().default(true),
  apiKey: secret(),
  segmentServiceUrl: z.url(),
  jobServiceUrl: z.url(),
  outreachServiceUrl: z.url(),
  requestTimeoutMs: z.number().int().positive().default(10_000),
  retryAttempts: z.number().int().min(1).max(20).default(6),
  topics: z
    .object({
      jobs: z.string().min(1).default(DEFAULT_TOPICS.jobs),
      results: z.string().min(1).default(DEFAULT_TOPICS.results),
      deadLetters: z.string().min(1).default(DEFAULT_TOPICS.deadLetters),
    })
    .strict()
    .prefault({}),
  partitions: z.number().int().positive().default(8),
  /** PostgreSQL schema of the action log (and the planner's firing store). */
  schema: identifier.default("outreach"),
};

export type OutreachJobConfig = z.output<z.ZodObject<typeof outreachConfig>>;

/** The client endpoint of one outside service from the job config. */
export function endpointOf(
  c: OutreachJobConfig,
  baseUrl: string,
): ServiceEndpoint {
  return {
    baseUrl: baseUrl.replace(/\/+$/, ""),
    apiKey: c.apiKey,
    timeoutMs: c.requestTimeoutMs,
    retry: {
      attempts: c.retryAttempts,
      initialBackoffMs: 50,
      maxBackoffMs: 5_000,
    },
  };
}

export function kafkaBrokers(runtime: RuntimeConfig): readonly string[] {
  if (runtime.kafka === undefined)
    throw new ConfigError(["kafka.brokers must be set (or set KAFKA_BROKERS)"]);
  return runtime.kafka.brokers;
}

/** A PostgreSQL pool from `postgres.url` (DATABASE_URL), ended at shutdown. */
export function postgresFor(
  ctx: { onShutdown(fn: () => Promise<void>): void },
  runtime: RuntimeConfig,
): PostgresPool {
  if (runtime.postgres === undefined)
    throw new ConfigError(["postgres.url must be set (or set DATABASE_URL)"]);
  const db = createPostgresPool({
    connectionString: runtime.postgres.url.reveal(),
  });
  ctx.onShutdown(() => db.end());
  return db;
}

/** Resolves when `signal` aborts. */
export function aborted(signal: AbortSignal): Promise<void> {
  return signal.aborted
    ? Promise.resolve()
    : new Promise((resolve) =>
        signal.addEventListener("abort", () => resolve(), { once: true }),
      );
}
