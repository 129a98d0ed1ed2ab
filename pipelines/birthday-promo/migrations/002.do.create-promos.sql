-- One promo per campaign and local day; its eligibilities link it to users (seeds/004 ERD).
-- UNIQUE (campaign, day) and the eligibility primary key make a rerun create nothing twice.
CREATE TABLE IF NOT EXISTS ${schema}.promos (
  id text PRIMARY KEY,
  campaign text NOT NULL,
  day date NOT NULL,
  firing_id text NOT NULL,
  code text NOT NULL UNIQUE,
  name text NOT NULL,
  discount_percent integer NOT NULL CHECK (discount_percent BETWEEN 1 AND 100),
  valid_from timestamptz NOT NULL,
  valid_until timestamptz NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (campaign, day)
);

CREATE TABLE IF NOT EXISTS ${schema}.promo_eligibilities (
  promo_id text NOT NULL REFERENCES ${schema}.promos (id),
  user_id text NOT NULL REFERENCES ${schema}.users (id),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (promo_id, user_id)
);
