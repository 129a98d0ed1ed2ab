-- Ratings of one movie in one event-time window, written by the recommendation job and read
-- by Superset. Keyed by (movie, window start): a rewritten window is the same upsert.
CREATE TABLE IF NOT EXISTS ${schema}.movie_rating_stats (
  movie_id bigint NOT NULL,
  window_start timestamptz NOT NULL,
  window_end timestamptz NOT NULL,
  title text NOT NULL,
  reviews integer NOT NULL,
  mean_rating double precision NOT NULL,
  histogram integer[] NOT NULL,
  PRIMARY KEY (movie_id, window_start)
);
