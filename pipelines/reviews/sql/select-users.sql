SELECT user_id, display_name, country, favorite_genres, created_at FROM ${schema}.users WHERE user_id = ANY($1::bigint[])
