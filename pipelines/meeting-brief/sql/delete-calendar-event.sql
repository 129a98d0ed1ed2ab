DELETE FROM ${schema}.calendar_events WHERE sales_person_id = $1 AND event_id = ANY($2::text[])
