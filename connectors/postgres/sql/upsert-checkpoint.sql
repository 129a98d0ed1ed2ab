INSERT INTO ${schema}.checkpoints (job, topic, "partition", state, offsets, updated_at)
VALUES ($1, $2, $3, $4::jsonb, $5::jsonb, now())
ON CONFLICT (job, topic, "partition") DO UPDATE
SET state = EXCLUDED.state, offsets = EXCLUDED.offsets, updated_at = EXCLUDED.updated_at
