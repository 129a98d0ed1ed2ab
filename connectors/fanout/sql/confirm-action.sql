UPDATE ${schema}.action_log
SET state = 'sent', provider_id = $2, reason = NULL, lease_until = NULL, updated_at = $3
WHERE key = $1
RETURNING key
