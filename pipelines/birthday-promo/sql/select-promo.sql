SELECT id, campaign, to_char(day, 'YYYY-MM-DD') AS day, firing_id, code, name, discount_percent,
       (extract(epoch FROM valid_from) * 1000)::bigint AS valid_from,
       (extract(epoch FROM valid_until) * 1000)::bigint AS valid_until
FROM ${schema}.promos
WHERE campaign = $1 AND day = $2::date
