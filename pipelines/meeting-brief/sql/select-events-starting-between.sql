SELECT event
FROM ${schema}.calendar_events
WHERE sales_person_id = $1 AND start_at >= to_timestamp($2 / 1000.0) AND start_at < to_timestamp($3 / 1000.0)
ORDER BY start_at, event_id
