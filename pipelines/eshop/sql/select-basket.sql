SELECT basket FROM ${schema}.baskets WHERE buyer_id = $1
