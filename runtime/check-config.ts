import { ConfigError, loadConfig, redact } from "./config.js";
import type { AnyJob } from "./job.js";

/** Options of {@link checkJobConfig}. */
export interface CheckJobConfigOptions {
  /** A YAML or JSON config file, as `sluice run --config` takes it. */
  readonly configFile?: string;
  /** Default `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
}

/** What {@link checkJobConfig} found: the effective config (secrets redacted) or every problem. */
export type ConfigCheck =
  | { readonly ok: true; readonly job: string; readonly config: unknown }
  | {
      readonly ok: false;
      readonly job: string;
      readonly problems: readonly string[];
    };

/**
 * Loads and validates a job's config exactly as `sluice run` would at start (file, then the
 * environment, the runtime's schema and the job's own), without connecting to anything.
 * `sluice run <job> --check-config` prints its result; the manifests' dry run
 * (`k3s/config-dry-run.integration.test.ts`) runs it with each container's env and files.
 *
 * @example
 * ```ts
 * const check = checkJobConfig(job, { env: { SLUICE_JOB__REVIEW_SERVICE__HOST: "reviews-service" } });
 * if (!check.ok) console.error(check.problems.join("\n"));
 * ```
 */
export function checkJobConfig(
  job: AnyJob,
  options: CheckJobConfigOptions = {},
): ConfigCheck {
  try {
    const loaded = loadConfig({
      ...(options.configFile !== undefined ? { file: options.configFile } : {}),
      ...(options.env !== undefined ? { env: options.env } : {}),
      jobSchema: job.config,
    });
    return {
      ok: true,
      job: job.name,
      config: redact({ ...loaded.runtime, job: loaded.job }),
    };
  } catch (error) {
    if (error instanceof ConfigError)
      return { ok: false, job: job.name, problems: error.problems };
    throw error;
  }
}
