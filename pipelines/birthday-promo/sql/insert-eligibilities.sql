INSERT INTO ${schema}.promo_eligibilities (promo_id, user_id)
SELECT $1, unnest($2::text[])
ON CONFLICT (promo_id, user_id) DO NOTHING
RETURNING user_id
