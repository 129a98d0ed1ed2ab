-- Marks a firing started unless it is done; returns the previous status (NULL when new).
WITH prev AS (
  SELECT status, attempts FROM ${schema}.schedule_firings
  WHERE job = $1 AND scheduled_at = $2
  FOR UPDATE
), up AS (
  INSERT INTO ${schema}.schedule_firings (job, scheduled_at, id, status, attempts, updated_at)
  VALUES ($1, $2, $3, 'started', 1, $4)
  ON CONFLICT (job, scheduled_at) DO UPDATE
    SET status = 'started', attempts = ${schema}.schedule_firings.attempts + 1,
        updated_at = EXCLUDED.updated_at, reason = NULL
    WHERE ${schema}.schedule_firings.status <> 'done'
  RETURNING attempts
)
SELECT (SELECT status FROM prev) AS previous,
       COALESCE((SELECT attempts FROM up), (SELECT attempts FROM prev)) AS attempts,
       EXISTS (SELECT 1 FROM up) AS run
