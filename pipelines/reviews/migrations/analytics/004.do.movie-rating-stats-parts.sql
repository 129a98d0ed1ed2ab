-- The recommendation job keeps per-movie window counts in keyed state, which is partitioned
-- like its input (by user): each input partition writes its own part of a movie's window,
-- upserted by (movie, window start, partition). The view sums the parts, with the columns
-- the table before it had, so readers (Superset) are unchanged.
CREATE TABLE IF NOT EXISTS ${schema}.movie_rating_stats_parts (
  movie_id bigint NOT NULL,
  window_start timestamptz NOT NULL,
  source_partition integer NOT NULL,
  window_end timestamptz NOT NULL,
  title text NOT NULL,
  reviews integer NOT NULL,
  rating_sum double precision NOT NULL,
  histogram integer[] NOT NULL,
  PRIMARY KEY (movie_id, window_start, source_partition)
);
DROP TABLE IF EXISTS ${schema}.movie_rating_stats;
CREATE OR REPLACE VIEW ${schema}.movie_rating_stats AS
SELECT p.movie_id, p.window_start, max(p.window_end) AS window_end, min(p.title) AS title,
       sum(p.reviews)::integer AS reviews,
       round((sum(p.rating_sum) / sum(p.reviews))::numeric, 2)::double precision AS mean_rating,
       (SELECT array_agg(h.n ORDER BY h.i)
          FROM (SELECT i, sum(q.histogram[i])::integer AS n
                  FROM ${schema}.movie_rating_stats_parts q, generate_subscripts(q.histogram, 1) AS i
                 WHERE q.movie_id = p.movie_id AND q.window_start = p.window_start
                 GROUP BY i) h) AS histogram
FROM ${schema}.movie_rating_stats_parts p
GROUP BY p.movie_id, p.window_start;
