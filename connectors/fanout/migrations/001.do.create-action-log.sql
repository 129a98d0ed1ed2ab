-- The action log: one row per (firing, recipient, action), written before the send and
-- confirmed after it. Times are epoch ms from the job's clock.
CREATE TABLE IF NOT EXISTS ${schema}.action_log (
  key text PRIMARY KEY,
  firing_id text NOT NULL,
  recipient text NOT NULL,
  action text NOT NULL,
  provider text NOT NULL,
  state text NOT NULL CHECK (state IN ('planned', 'sending', 'sent', 'failed', 'unknown')),
  attempts integer NOT NULL DEFAULT 0,
  provider_id text,
  reason text,
  planned_at bigint NOT NULL,
  updated_at bigint NOT NULL,
  lease_until bigint
);

CREATE INDEX IF NOT EXISTS action_log_firing ON ${schema}.action_log (firing_id);
