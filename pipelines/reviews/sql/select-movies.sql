SELECT movie_id, title, release_year, genres, updated_at FROM ${schema}.movies WHERE movie_id = ANY($1::bigint[])
