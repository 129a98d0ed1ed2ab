-- Items that become due at a time; claimed with a lease (FOR UPDATE SKIP LOCKED), so a
-- crashed claimer's items are handed out again when the lease ends.
CREATE TABLE IF NOT EXISTS ${schema}.send_at_queue (
  queue text NOT NULL,
  id text NOT NULL,
  due_at bigint NOT NULL,
  payload jsonb NOT NULL,
  lease_until bigint,
  lease_token text,
  attempts integer NOT NULL DEFAULT 0,
  done_at bigint,
  PRIMARY KEY (queue, id)
);

CREATE INDEX IF NOT EXISTS send_at_queue_due
  ON ${schema}.send_at_queue (queue, due_at) WHERE done_at IS NULL;
