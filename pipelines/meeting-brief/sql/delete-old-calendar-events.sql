-- Mirrored events list attendee emails: they go with the participant data once they ended
-- 30 days ago or earlier.
DELETE FROM ${schema}.calendar_events WHERE end_at <= to_timestamp($1 / 1000.0)
