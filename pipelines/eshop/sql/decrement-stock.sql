UPDATE ${schema}.products SET stock = stock - $2 WHERE product_id = $1
