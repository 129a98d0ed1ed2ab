INSERT INTO ${schema}.products (product_id, name, price, stock) VALUES ($1, $2, $3::numeric, $4)
ON CONFLICT (product_id) DO UPDATE SET name = excluded.name, price = excluded.price, stock = excluded.stock
