SELECT idempotency_key, firing_id, job_id, action_id, segment_id, template_id, subject,
       recipient_email, state, message_id, reason, completed_at
  FROM ${schema}.outreach_actions
 WHERE firing_id = $1 AND job_id = ANY($2::text[])
