DELETE FROM ${schema}.calendar_events WHERE sales_person_id = $1
