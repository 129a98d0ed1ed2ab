-- Plans many actions at once; `inserted` tells which were new. Existing rows come back as they are.
WITH input AS (
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])
    WITH ORDINALITY AS t(key, firing_id, recipient, action, ord)
), ins AS (
  INSERT INTO ${schema}.action_log
    (key, firing_id, recipient, action, provider, state, attempts, planned_at, updated_at)
  SELECT key, firing_id, recipient, action, $5, 'planned', 0, $6, $6 FROM input
  ON CONFLICT (key) DO NOTHING
  RETURNING key
)
SELECT i.ord, i.key, (ins.key IS NOT NULL) AS inserted,
       a.firing_id, a.recipient, a.action, a.provider, a.state, a.attempts, a.provider_id,
       a.reason, a.planned_at, a.updated_at, a.lease_until
FROM input i
LEFT JOIN ins ON ins.key = i.key
LEFT JOIN ${schema}.action_log a ON a.key = i.key
ORDER BY i.ord
