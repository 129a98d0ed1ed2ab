SELECT job, id, scheduled_at, status, attempts, updated_at, reason
FROM ${schema}.schedule_firings
WHERE job = $1
ORDER BY scheduled_at DESC
LIMIT 1
