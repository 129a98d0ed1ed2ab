INSERT INTO ${schema}.baskets (buyer_id, basket) VALUES ($1, $2::jsonb)
ON CONFLICT (buyer_id) DO UPDATE SET basket = excluded.basket
