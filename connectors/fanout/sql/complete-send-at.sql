UPDATE ${schema}.send_at_queue
SET done_at = $4, lease_until = NULL
WHERE queue = $1 AND id = $2 AND lease_token = $3 AND done_at IS NULL
