-- Snapshots of each running job's counters (runtime/job-stats.ts), read by the Pipelines
-- dashboard. Counters are totals since the instance started; the view turns them into rates.
CREATE TABLE IF NOT EXISTS ${schema}.job_stats (
  job text NOT NULL,
  instance text NOT NULL,
  taken_at timestamptz NOT NULL,
  records_in bigint NOT NULL,
  records_out bigint NOT NULL,
  consumer_lag bigint NOT NULL,
  dead_letters bigint NOT NULL,
  dedupe_hits bigint NOT NULL,
  late_records bigint NOT NULL,
  PRIMARY KEY (job, instance, taken_at)
);
CREATE INDEX IF NOT EXISTS job_stats_taken_at ON ${schema}.job_stats (taken_at);
