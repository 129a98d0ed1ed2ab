SELECT id, name, email, access_token, refresh_token, expires
FROM ${schema}.sales_personnel
ORDER BY id
