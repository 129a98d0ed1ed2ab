UPDATE ${schema}.products p SET price = $2::numeric FROM (SELECT price FROM ${schema}.products WHERE product_id = $1 FOR UPDATE) old
WHERE p.product_id = $1 RETURNING old.price::text AS old_price
