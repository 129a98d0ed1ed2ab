INSERT INTO ${schema}.stock_decrements (order_id) VALUES ($1) ON CONFLICT (order_id) DO NOTHING
