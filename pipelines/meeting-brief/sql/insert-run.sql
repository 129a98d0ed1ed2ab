INSERT INTO ${schema}.brief_runs (firing_id, scheduled_at, started_at)
VALUES ($1, to_timestamp($2 / 1000.0), to_timestamp($3 / 1000.0))
ON CONFLICT (firing_id) DO NOTHING
