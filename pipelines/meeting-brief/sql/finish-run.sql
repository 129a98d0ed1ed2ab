UPDATE ${schema}.brief_runs
SET finished_at = to_timestamp($2 / 1000.0), summary = $3
WHERE firing_id = $1
