INSERT INTO ${schema}.grace_period_task_runs (started_at) VALUES ($1::timestamptz) RETURNING run_id
