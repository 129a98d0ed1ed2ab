INSERT INTO ${schema}.sales_personnel (name, email, access_token, refresh_token, expires)
VALUES ($1, $2, $3, $4, $5)
RETURNING id
