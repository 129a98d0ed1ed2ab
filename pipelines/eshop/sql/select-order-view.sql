SELECT order_id, status, buyer, priority, items, submitted_at, updated_at, version, note FROM ${schema}.order_views WHERE order_id = $1
