INSERT INTO ${schema}.outreach_actions
  (idempotency_key, firing_id, job_id, action_id, segment_id, template_id, subject, recipient_email, state)
SELECT k, f, j, a, s, t, sub, e, 'PLANNED'
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])
    AS u(k, f, j, a, s, t, sub, e)
ON CONFLICT (idempotency_key) DO NOTHING
