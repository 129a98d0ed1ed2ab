INSERT INTO ${schema}.checkpoint_owners AS o (job, topic, "partition", epoch, claimed_at)
VALUES ($1, $2, $3, 1, now())
ON CONFLICT (job, topic, "partition") DO UPDATE
SET epoch = o.epoch + 1, claimed_at = now()
RETURNING epoch
