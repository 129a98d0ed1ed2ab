DELETE FROM ${schema}.companies c
WHERE NOT EXISTS (SELECT 1 FROM ${schema}.participants p WHERE p.company_id = c.id)
