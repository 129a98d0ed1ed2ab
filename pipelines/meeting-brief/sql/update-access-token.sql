UPDATE ${schema}.sales_personnel
SET access_token = $2, expires = $3, updated_at = now()
WHERE id = $1
