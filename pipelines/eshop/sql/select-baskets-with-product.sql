SELECT buyer_id, basket FROM ${schema}.baskets WHERE basket->'items' @> $1::jsonb FOR UPDATE
