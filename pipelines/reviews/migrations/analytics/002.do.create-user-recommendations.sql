-- The latest recommendations of each user (one row per user, ranked arrays), upserted by
-- the recommendation job; a row is only replaced by a newer generation.
CREATE TABLE IF NOT EXISTS ${schema}.user_recommendations (
  user_id bigint PRIMARY KEY,
  display_name text NOT NULL,
  movie_ids bigint[] NOT NULL,
  titles text[] NOT NULL,
  scores double precision[] NOT NULL,
  reasons text[] NOT NULL,
  model_version text NOT NULL,
  generated_at timestamptz NOT NULL,
  triggered_by text NOT NULL
);
