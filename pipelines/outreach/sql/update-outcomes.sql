-- States only move forward: PLANNED(0) → SENT(1) → DEAD(2) → DELIVERED | FAILED (3).
UPDATE ${schema}.outreach_actions AS a
   SET state = u.state,
       message_id = COALESCE(u.message_id, a.message_id),
       reason = COALESCE(u.reason, a.reason),
       completed_at = CASE WHEN u.state = 'SENT' THEN a.completed_at ELSE u.at END
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[])
    AS u(k, state, message_id, reason, at)
 WHERE a.idempotency_key = u.k
   AND (CASE u.state WHEN 'SENT' THEN 1 WHEN 'DEAD' THEN 2 ELSE 3 END)
     > (CASE a.state WHEN 'PLANNED' THEN 0 WHEN 'SENT' THEN 1 WHEN 'DEAD' THEN 2 ELSE 3 END)
