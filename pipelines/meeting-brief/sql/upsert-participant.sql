INSERT INTO ${schema}.participants (email, first_name, last_name, avatar, title, linkedin_url, company_id, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, to_timestamp($8 / 1000.0))
ON CONFLICT (email) DO UPDATE
SET first_name = EXCLUDED.first_name, last_name = EXCLUDED.last_name, avatar = EXCLUDED.avatar,
    title = EXCLUDED.title, linkedin_url = EXCLUDED.linkedin_url, company_id = EXCLUDED.company_id,
    updated_at = EXCLUDED.updated_at
RETURNING id
