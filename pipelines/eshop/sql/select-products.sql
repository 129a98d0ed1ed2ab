SELECT product_id, name, price::text AS price, stock FROM ${schema}.products ORDER BY product_id
