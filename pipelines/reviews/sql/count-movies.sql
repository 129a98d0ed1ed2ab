SELECT count(*)::int AS n FROM ${schema}.movies
