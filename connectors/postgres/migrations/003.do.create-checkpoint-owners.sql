-- The latest claim on each partition's checkpoint (connectors/postgres/checkpoint-store.ts):
-- a save carrying an older epoch (a previous owner still running) is refused. Kept apart from
-- `checkpoints` so a claim never needs a row of state. PostgreSQL and CockroachDB.
CREATE TABLE IF NOT EXISTS ${schema}.checkpoint_owners (
  job text NOT NULL,
  topic text NOT NULL,
  "partition" integer NOT NULL,
  epoch bigint NOT NULL,
  claimed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (job, topic, "partition")
);
