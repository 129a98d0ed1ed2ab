SELECT items FROM ${schema}.stock_decisions WHERE order_id = $1
