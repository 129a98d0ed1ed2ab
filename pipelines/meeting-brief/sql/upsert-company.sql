INSERT INTO ${schema}.companies (name, domain, linkedin_url, employees)
VALUES ($1, $2, $3, $4)
ON CONFLICT (domain) DO UPDATE
SET name = EXCLUDED.name, linkedin_url = EXCLUDED.linkedin_url, employees = EXCLUDED.employees, updated_at = now()
RETURNING id
