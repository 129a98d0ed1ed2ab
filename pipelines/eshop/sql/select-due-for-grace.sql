SELECT order_id, status, buyer, priority, items, submitted_at, updated_at, version, note FROM ${schema}.order_views
WHERE status = 'Submitted' AND submitted_at <= $1::timestamptz ORDER BY order_id
