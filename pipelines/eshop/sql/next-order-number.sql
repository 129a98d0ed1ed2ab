SELECT nextval('${schema}.order_numbers')::int AS n
