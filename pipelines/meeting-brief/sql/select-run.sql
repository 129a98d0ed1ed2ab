SELECT (extract(epoch FROM started_at) * 1000)::bigint AS started_ms,
       (extract(epoch FROM finished_at) * 1000)::bigint AS finished_ms,
       summary
FROM ${schema}.brief_runs WHERE firing_id = $1
