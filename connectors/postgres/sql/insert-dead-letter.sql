INSERT INTO ${schema}.dead_letters
  (id, job, topic, "partition", "offset", record_key, stage, code, reason, payload, headers)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb)
ON CONFLICT (id) DO NOTHING
