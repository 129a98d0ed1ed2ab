DELETE FROM ${schema}.participants WHERE updated_at <= to_timestamp($1 / 1000.0)
