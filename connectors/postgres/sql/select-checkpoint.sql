SELECT topic, "partition", state, offsets, updated_at
FROM ${schema}.checkpoints
WHERE job = $1 AND topic = $2 AND "partition" = $3
