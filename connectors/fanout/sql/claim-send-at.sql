-- Leases due items; SKIP LOCKED lets several workers claim at once without waiting.
UPDATE ${schema}.send_at_queue q
SET lease_until = $2::bigint + $4::bigint, lease_token = $5, attempts = q.attempts + 1
WHERE (q.queue, q.id) IN (
  SELECT queue, id FROM ${schema}.send_at_queue
  WHERE queue = $1 AND done_at IS NULL AND due_at <= $2
    AND (lease_until IS NULL OR lease_until <= $2)
  ORDER BY due_at, id
  LIMIT $3
  FOR UPDATE SKIP LOCKED
)
RETURNING q.id, q.due_at, q.payload, q.lease_token, q.attempts
