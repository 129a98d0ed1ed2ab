UPDATE ${schema}.send_at_queue
SET lease_until = NULL, lease_token = NULL, due_at = $4
WHERE queue = $1 AND id = $2 AND lease_token = $3 AND done_at IS NULL
