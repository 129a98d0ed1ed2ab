SELECT run_id, started_at, ended_at, confirmed, exit_message FROM ${schema}.grace_period_task_runs ORDER BY run_id
