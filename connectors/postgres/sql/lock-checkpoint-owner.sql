SELECT epoch
FROM ${schema}.checkpoint_owners
WHERE job = $1 AND topic = $2 AND "partition" = $3
FOR UPDATE
