SELECT movie_id, title, genres FROM ${schema}.movies ORDER BY movie_id
