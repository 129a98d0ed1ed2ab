UPDATE ${schema}.grace_period_task_runs SET ended_at = $2::timestamptz, confirmed = $3, exit_message = $4 WHERE run_id = $1
