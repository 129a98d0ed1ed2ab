-- Starts an attempt unless sent, unknown, or sending under a live lease.
UPDATE ${schema}.action_log
SET state = 'sending', attempts = attempts + 1, lease_until = $2::bigint + $3::bigint, updated_at = $2
WHERE key = $1
  AND (state IN ('planned', 'failed') OR (state = 'sending' AND lease_until <= $2))
RETURNING key
