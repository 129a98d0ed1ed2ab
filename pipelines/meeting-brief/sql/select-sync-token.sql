SELECT sync_token FROM ${schema}.calendar_sync WHERE sales_person_id = $1
