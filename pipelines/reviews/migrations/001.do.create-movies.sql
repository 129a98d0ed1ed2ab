-- Movies served by the movie service (seed C.2.1). PostgreSQL and CockroachDB: no
-- Postgres-only types or functions; genres as a text array (both support one-dimensional arrays).
CREATE TABLE IF NOT EXISTS ${schema}.movies (
  movie_id bigint PRIMARY KEY,
  title text NOT NULL,
  release_year integer,
  genres text[] NOT NULL,
  updated_at timestamptz NOT NULL
);
