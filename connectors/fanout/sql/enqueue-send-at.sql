INSERT INTO ${schema}.send_at_queue (queue, id, due_at, payload)
SELECT $1, id, due_at, payload
FROM unnest($2::text[], $3::bigint[], $4::jsonb[]) AS t(id, due_at, payload)
ON CONFLICT (queue, id) DO NOTHING
RETURNING id
