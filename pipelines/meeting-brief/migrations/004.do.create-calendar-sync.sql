-- Incremental calendar sync: the nextSyncToken of each sales person's calendar, and a mirror
-- of its events so a run fetches only what changed and still sees the whole next 24 h.
CREATE TABLE IF NOT EXISTS ${schema}.calendar_sync (
  sales_person_id bigint PRIMARY KEY REFERENCES ${schema}.sales_personnel (id) ON DELETE CASCADE,
  sync_token text NOT NULL,
  synced_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS ${schema}.calendar_events (
  sales_person_id bigint NOT NULL REFERENCES ${schema}.sales_personnel (id) ON DELETE CASCADE,
  event_id text NOT NULL,
  start_at timestamptz NOT NULL,
  end_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  event jsonb NOT NULL,
  PRIMARY KEY (sales_person_id, event_id)
);
CREATE INDEX IF NOT EXISTS calendar_events_start ON ${schema}.calendar_events (sales_person_id, start_at);
