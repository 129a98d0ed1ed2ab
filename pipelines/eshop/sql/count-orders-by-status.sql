SELECT status, count(*)::int AS n FROM ${schema}.order_views GROUP BY status
