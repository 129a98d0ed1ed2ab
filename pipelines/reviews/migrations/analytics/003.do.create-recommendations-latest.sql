-- One row per (user, rank) for Superset, which charts flat tables better than arrays.
CREATE OR REPLACE VIEW ${schema}.recommendations_latest AS
SELECT u.user_id, u.display_name, r.rank, r.movie_id, r.title, r.score, r.reason,
       u.model_version, u.generated_at
FROM ${schema}.user_recommendations u,
     unnest(u.movie_ids, u.titles, u.scores, u.reasons)
       WITH ORDINALITY AS r(movie_id, title, score, reason, rank);
