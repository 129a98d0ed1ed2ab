INSERT INTO ${schema}.calendar_sync (sales_person_id, sync_token, synced_at)
VALUES ($1, $2, now())
ON CONFLICT (sales_person_id) DO UPDATE SET sync_token = EXCLUDED.sync_token, synced_at = EXCLUDED.synced_at
