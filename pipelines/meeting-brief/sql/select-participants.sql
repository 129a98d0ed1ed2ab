SELECT p.id, p.email, p.first_name, p.last_name, p.avatar, p.title, p.linkedin_url,
       (extract(epoch FROM p.updated_at) * 1000)::bigint AS updated_ms,
       c.id AS company_id, c.name AS company_name, c.domain AS company_domain,
       c.linkedin_url AS company_linkedin_url, c.employees AS company_employees
FROM ${schema}.participants p
LEFT JOIN ${schema}.companies c ON c.id = p.company_id
WHERE p.email = ANY($1::text[])
