-- Records the end (or skip) of a firing; a done firing stays done.
INSERT INTO ${schema}.schedule_firings (job, scheduled_at, id, status, attempts, updated_at, reason)
VALUES ($1, $2, $3, $4, 0, $5, $6)
ON CONFLICT (job, scheduled_at) DO UPDATE
  SET status = EXCLUDED.status, updated_at = EXCLUDED.updated_at, reason = EXCLUDED.reason
  WHERE ${schema}.schedule_firings.status <> 'done'
