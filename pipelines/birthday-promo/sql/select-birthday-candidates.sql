-- Verified users whose stored birth month-day is celebrated today ($1), plus verified rows
-- whose birth_date is missing, malformed or a month-day that exists in no year ($2), so
-- bad rows are reported, never silently ignored (mirrors reportEveryDay in birthday.ts).
SELECT id, name, email, phone, birth_date, is_verified
FROM ${schema}.users
WHERE is_verified
  AND (substr(birth_date, 6, 5) = ANY ($1::text[])
       OR birth_date IS NULL
       OR birth_date !~ '^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$'
       OR substr(birth_date, 6, 5) = ANY ($2::text[]))
ORDER BY id
