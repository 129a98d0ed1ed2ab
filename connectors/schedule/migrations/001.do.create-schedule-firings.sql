-- The durable record of scheduled firings: one row per (job, scheduled instant). Times are
-- epoch milliseconds from the job's clock, so virtual-time tests and real runs agree.
CREATE TABLE IF NOT EXISTS ${schema}.schedule_firings (
  job text NOT NULL,
  scheduled_at bigint NOT NULL,
  id text NOT NULL,
  status text NOT NULL CHECK (status IN ('started', 'done', 'failed', 'skipped')),
  attempts integer NOT NULL DEFAULT 0,
  updated_at bigint NOT NULL,
  reason text,
  PRIMARY KEY (job, scheduled_at)
);
