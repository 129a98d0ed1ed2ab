-- The outreach action log: one row per email, keyed by (firing, job, action).
CREATE TABLE IF NOT EXISTS ${schema}.outreach_actions (
  idempotency_key text PRIMARY KEY,
  firing_id text NOT NULL,
  job_id text NOT NULL,
  action_id text NOT NULL,
  segment_id text NOT NULL,
  template_id text NOT NULL,
  subject text NOT NULL,
  recipient_email text NOT NULL,
  state text NOT NULL CHECK (state IN ('PLANNED', 'SENT', 'DELIVERED', 'FAILED', 'DEAD')),
  message_id text,
  reason text,
  planned_at timestamptz NOT NULL DEFAULT now(),
  completed_at timestamptz
);
CREATE INDEX IF NOT EXISTS outreach_actions_firing_job
  ON ${schema}.outreach_actions (firing_id, job_id);
