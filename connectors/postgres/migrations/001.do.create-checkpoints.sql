-- Keyed-state snapshot and source offsets of one input partition of a job, written together
-- in one transaction (connectors/postgres/checkpoint-store.ts). PostgreSQL and CockroachDB.
CREATE TABLE IF NOT EXISTS ${schema}.checkpoints (
  job text NOT NULL,
  topic text NOT NULL,
  "partition" integer NOT NULL,
  state jsonb NOT NULL,
  offsets jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (job, topic, "partition")
);
