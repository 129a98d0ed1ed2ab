SELECT key, firing_id, recipient, action, provider, state, attempts, provider_id, reason,
       planned_at, updated_at, lease_until
FROM ${schema}.action_log
WHERE key = $1
