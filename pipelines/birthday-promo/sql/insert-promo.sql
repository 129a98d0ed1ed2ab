INSERT INTO ${schema}.promos
  (id, campaign, day, firing_id, code, name, discount_percent, valid_from, valid_until)
VALUES ($1, $2, $3::date, $4, $5, $6, $7, to_timestamp($8::bigint / 1000.0), to_timestamp($9::bigint / 1000.0))
ON CONFLICT (campaign, day) DO NOTHING
RETURNING id
