INSERT INTO ${schema}.users (id, name, email, phone, birth_date, is_verified)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::boolean[])
ON CONFLICT (id) DO NOTHING
