-- Records that could not be decoded, validated or processed, with the reason. The id is
-- deterministic (job, origin, stage) so writing the same dead letter twice keeps one row.
CREATE TABLE IF NOT EXISTS ${schema}.dead_letters (
  id text PRIMARY KEY,
  job text NOT NULL,
  topic text,
  "partition" integer,
  "offset" bigint,
  record_key text,
  stage text NOT NULL,
  code text NOT NULL,
  reason text NOT NULL,
  payload bytea,
  headers jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX IF NOT EXISTS dead_letters_job_created_at
  ON ${schema}.dead_letters (job, created_at);
