-- The e-shop's tables (seeds/003): order views written by Ordering, the catalog's products
-- and stock with one decision and one decrement per order, open baskets, order numbers and
-- the grace-period task's runs.
CREATE TABLE IF NOT EXISTS ${schema}.order_views (
  order_id integer PRIMARY KEY,
  status text NOT NULL,
  buyer text NOT NULL,
  priority boolean NOT NULL,
  items jsonb NOT NULL,
  submitted_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  version integer NOT NULL,
  note text
);
CREATE INDEX IF NOT EXISTS order_views_status ON ${schema}.order_views (status, submitted_at);
CREATE TABLE IF NOT EXISTS ${schema}.products (
  product_id integer PRIMARY KEY,
  name text NOT NULL,
  price numeric(18, 2) NOT NULL,
  stock integer NOT NULL
);
CREATE TABLE IF NOT EXISTS ${schema}.stock_decisions (
  order_id integer PRIMARY KEY,
  items jsonb NOT NULL,
  decided_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS ${schema}.stock_decrements (
  order_id integer PRIMARY KEY,
  applied_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS ${schema}.baskets (
  buyer_id text PRIMARY KEY,
  basket jsonb NOT NULL
);
CREATE SEQUENCE IF NOT EXISTS ${schema}.order_numbers;
CREATE TABLE IF NOT EXISTS ${schema}.grace_period_task_runs (
  run_id serial PRIMARY KEY,
  started_at timestamptz NOT NULL,
  ended_at timestamptz,
  confirmed integer NOT NULL DEFAULT 0,
  exit_message text
);
