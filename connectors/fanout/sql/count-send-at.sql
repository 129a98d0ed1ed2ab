SELECT count(*)::bigint AS pending, min(due_at) AS next_due_at
FROM ${schema}.send_at_queue
WHERE queue = $1 AND done_at IS NULL
