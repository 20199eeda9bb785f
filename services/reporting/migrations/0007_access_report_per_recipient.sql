-- An event may be disclosed to several organisations (a transfer's receiving
-- municipality, and the client's home municipality through its feed): one row each.
ALTER TABLE {schema}.access_report DROP CONSTRAINT IF EXISTS access_report_pkey;
CREATE UNIQUE INDEX IF NOT EXISTS access_report_entry
    ON {schema}.access_report (event_id, client_id, coalesce(recipient, ''));
