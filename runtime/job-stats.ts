import { hostname } from "node:os";
import type { Registry } from "prom-client";
import { METRIC_NAMES } from "../connectors/metrics.js";
import {
  migratePostgres,
  quoteIdent,
  type MigrationResult,
  type PostgresPool,
} from "../connectors/postgres/index.js";
import { toSluiceError } from "../operators/sluice-error.js";
import type { Logger } from "./log.js";

/** Name of the counter a job registers for records that arrived after their window closed. */
export const LATE_RECORDS_METRIC = "sluice_late_records_total";

/** One snapshot of a job's counters (totals since the process started; lag now). */
export interface JobStatsSnapshot {
  readonly recordsIn: number;
  readonly recordsOut: number;
  /** Sum over partitions of `sluice_consumer_lag`. */
  readonly consumerLag: number;
  /** `sluice_bad_records_total{fate="dead_lettered"}`. */
  readonly deadLetters: number;
  /** `sluice_dedupe_total{outcome="hit"}`. */
  readonly dedupeHits: number;
  /** `sluice_late_records_total`, 0 when the job registers no such counter. */
  readonly lateRecords: number;
}

/**
 * Reads the snapshot from a job's registry (the same numbers `/metrics` serves; collectors
 * run as on a scrape).
 *
 * @example
 * ```ts
 * const s = await snapshotMetrics(ctx.metrics); // { recordsIn: 1200, deadLetters: 3, … }
 * ```
 */
export async function snapshotMetrics(
  registry: Registry,
): Promise<JobStatsSnapshot> {
  const metrics = await registry.getMetricsAsJSON();
  const sum = (
    name: string,
    where: (labels: { readonly [k: string]: unknown }) => boolean = () => true,
  ): number => {
    let total = 0;
    for (const m of metrics) {
      if (m.name !== name) continue;
      for (const v of m.values as readonly {
        value: number;
        labels: { readonly [k: string]: unknown };
      }[])
        if (where(v.labels) && Number.isFinite(v.value)) total += v.value;
    }
    return total;
  };
  return {
    recordsIn: sum(METRIC_NAMES.recordsIn),
    recordsOut: sum(METRIC_NAMES.recordsOut),
    consumerLag: sum(METRIC_NAMES.consumerLag),
    deadLetters: sum(
      METRIC_NAMES.badRecords,
      (l) => l["fate"] === "dead_lettered",
    ),
    dedupeHits: sum(METRIC_NAMES.dedupe, (l) => l["outcome"] === "hit"),
    lateRecords: sum(LATE_RECORDS_METRIC),
  };
}

/** Creates `<schema>.job_stats` and the view `job_stats_rates` (postgrator; idempotent). */
export function migrateJobStats(
  db: PostgresPool,
  schema: string,
): Promise<MigrationResult> {
  return migratePostgres(db, {
    schema,
    versionTable: "job_stats_migrations",
    directory: new URL("./migrations/job-stats/", import.meta.url),
  });
}

/** Options of {@link startJobStats}. */
export interface JobStatsOptions {
  readonly db: PostgresPool;
  /** Schema of `job_stats` (migrated at start). */
  readonly schema: string;
  readonly job: string;
  /** Tells apart replicas and restarts of one job. Default `<hostname>/<pid>/<start time>`. */
  readonly instance?: string;
  readonly registry: Registry;
  /** Default 10 000. */
  readonly intervalMs?: number;
  readonly logger?: Logger;
  /** The snapshot time, in ms since the epoch. Default `Date.now` (tests pass their own clock). */
  readonly now?: () => number;
}

/** A running {@link startJobStats}. */
export interface JobStats {
  /** Writes one snapshot now. */
  snapshot(): Promise<void>;
  /** Stops the timer and writes a last snapshot (idempotent). */
  stop(): Promise<void>;
  /** Snapshots written so far. */
  readonly written: number;
}

/**
 * Writes the job's counters ({@link snapshotMetrics}) to `<schema>.job_stats` every
 * `intervalMs`, for the Pipelines dashboard. A failed write is logged and counted, never
 * fatal to the job: the dashboard only misses a point. `runJob` starts it when the config
 * has `postgres` (interval from `SLUICE_JOB_STATS_INTERVAL_MS`, 0 turns it off).
 *
 * @example
 * ```ts
 * await migrateJobStats(db, "sluice");
 * const stats = startJobStats({ db, schema: "sluice", job: "reviews-recommendation", registry });
 * // … later
 * await stats.stop();
 * ```
 */
export function startJobStats(options: JobStatsOptions): JobStats {
  const instance =
    options.instance ??
    `${hostname()}/${process.pid}/${new Date().toISOString()}`;
  const table = `${quoteIdent(options.schema)}.job_stats`;
  let written = 0;
  let failures = 0;
  let inFlight: Promise<void> = Promise.resolve();
  const write = async (): Promise<void> => {
    const s = await snapshotMetrics(options.registry);
    await options.db.pool.query(
      `INSERT INTO ${table} (job, instance, taken_at, records_in, records_out, consumer_lag, dead_letters, dedupe_hits, late_records)
       VALUES ($1, $2, $9, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (job, instance, taken_at) DO NOTHING`,
      [
        options.job,
        instance,
        s.recordsIn,
        s.recordsOut,
        s.consumerLag,
        s.deadLetters,
        s.dedupeHits,
        s.lateRecords,
        new Date((options.now ?? Date.now)()),
      ],
    );
    written += 1;
  };
  const snapshot = (): Promise<void> => {
    inFlight = inFlight.then(() =>
      write().catch((error: unknown) => {
        failures += 1;
        // Once, then every 100th: a database outage should not flood the log.
        if (failures === 1 || failures % 100 === 0)
          options.logger?.warn("job stats: snapshot not written", {
            failures,
            err: toSluiceError(error, "UNAVAILABLE"),
          });
      }),
    );
    return inFlight;
  };
  const timer = setInterval(() => {
    void snapshot();
  }, options.intervalMs ?? 10_000);
  timer.unref();
  let stopping: Promise<void> | undefined;
  return {
    snapshot,
    stop: () =>
      (stopping ??= (async () => {
        clearInterval(timer);
        await snapshot();
      })()),
    get written() {
      return written;
    },
  };
}
