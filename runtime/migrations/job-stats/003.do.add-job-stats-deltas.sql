-- The interval start and the in/out deltas too, so a dashboard bucket's rate is its records
-- over its time span (whatever the snapshot interval and the number of instances).
CREATE OR REPLACE VIEW ${schema}.job_stats_rates AS
SELECT job, instance, taken_at, consumer_lag,
       (records_in - prev_in) / NULLIF(EXTRACT(EPOCH FROM taken_at - prev_at), 0) AS records_in_per_s,
       (records_out - prev_out) / NULLIF(EXTRACT(EPOCH FROM taken_at - prev_at), 0) AS records_out_per_s,
       GREATEST(dead_letters - COALESCE(prev_dead, 0), 0) AS dead_letters_delta,
       GREATEST(dedupe_hits - COALESCE(prev_dedupe, 0), 0) AS dedupe_hits_delta,
       GREATEST(late_records - COALESCE(prev_late, 0), 0) AS late_records_delta,
       prev_at,
       GREATEST(records_in - prev_in, 0) AS records_in_delta,
       GREATEST(records_out - prev_out, 0) AS records_out_delta
FROM (
  SELECT s.*,
         lag(taken_at) OVER w AS prev_at,
         lag(records_in) OVER w AS prev_in,
         lag(records_out) OVER w AS prev_out,
         lag(dead_letters) OVER w AS prev_dead,
         lag(dedupe_hits) OVER w AS prev_dedupe,
         lag(late_records) OVER w AS prev_late
  FROM ${schema}.job_stats s
  WINDOW w AS (PARTITION BY job, instance ORDER BY taken_at)
) t;
