SELECT state, count(*)::int AS n
  FROM ${schema}.outreach_actions
 WHERE $1::text IS NULL OR firing_id = $1
 GROUP BY state
