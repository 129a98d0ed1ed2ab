-- A sent action stays sent.
UPDATE ${schema}.action_log
SET state = $4, reason = $2, lease_until = NULL, updated_at = $3
WHERE key = $1 AND state <> 'sent'
