INSERT INTO ${schema}.order_views (order_id, status, buyer, priority, items, submitted_at, updated_at, version, note)
SELECT * FROM unnest($1::int[], $2::text[], $3::text[], $4::boolean[], $5::jsonb[], $6::timestamptz[], $7::timestamptz[], $8::int[], $9::text[])
ON CONFLICT (order_id) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at,
  version = excluded.version, note = excluded.note
WHERE ${schema}.order_views.version < excluded.version
