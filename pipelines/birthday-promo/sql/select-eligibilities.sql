SELECT user_id FROM ${schema}.promo_eligibilities WHERE promo_id = $1 ORDER BY user_id
