-- Users as the backend service keeps them (seeds/004 ERD). birth_date is text because the
-- rows come from an import: the job validates it and reports bad rows instead of failing.
CREATE TABLE IF NOT EXISTS ${schema}.users (
  id text PRIMARY KEY,
  name text NOT NULL,
  email text,
  phone text,
  birth_date text,
  is_verified boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX IF NOT EXISTS users_verified_birth_month_day
  ON ${schema}.users (substr(birth_date, 6, 5)) WHERE is_verified;
