-- Users served by the user service (seed C.2.2). PostgreSQL and CockroachDB.
CREATE TABLE IF NOT EXISTS ${schema}.users (
  user_id bigint PRIMARY KEY,
  display_name text NOT NULL,
  country text,
  favorite_genres text[] NOT NULL,
  created_at timestamptz NOT NULL
);
