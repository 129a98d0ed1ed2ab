INSERT INTO ${schema}.stock_decisions (order_id, items) VALUES ($1, $2::jsonb) ON CONFLICT (order_id) DO NOTHING
