-- An older copy (a retried page) never replaces a newer one.
INSERT INTO ${schema}.calendar_events (sales_person_id, event_id, start_at, end_at, updated_at, event)
VALUES ($1, $2, to_timestamp($3 / 1000.0), to_timestamp($4 / 1000.0), to_timestamp($5 / 1000.0), $6)
ON CONFLICT (sales_person_id, event_id) DO UPDATE
SET start_at = EXCLUDED.start_at, end_at = EXCLUDED.end_at, updated_at = EXCLUDED.updated_at, event = EXCLUDED.event
WHERE ${schema}.calendar_events.updated_at <= EXCLUDED.updated_at
