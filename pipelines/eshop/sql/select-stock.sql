SELECT product_id, stock FROM ${schema}.products WHERE product_id = ANY($1::int[])
