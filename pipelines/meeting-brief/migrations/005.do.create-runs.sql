-- One row per firing of the 05:00 job: when it ran and what it did (counts as JSON).
CREATE TABLE IF NOT EXISTS ${schema}.brief_runs (
  firing_id text PRIMARY KEY,
  scheduled_at timestamptz NOT NULL,
  started_at timestamptz NOT NULL,
  finished_at timestamptz,
  summary jsonb
);
