-- Who has seen or received a client's data (architecture decision 9): every read through
-- any API (ClientDataAccessed) and every disclosure Reitti makes to another organisation
-- (the final assessment to the TE-office, a transfer to a municipality's social
-- services). Append-only: rows are never changed or removed, except by a replay that
-- rebuilds the whole schema.
CREATE TABLE IF NOT EXISTS {schema}.access_report (
    event_id     uuid        NOT NULL,
    client_id    text        NOT NULL,
    kind         text        NOT NULL CHECK (kind IN ('read', 'disclosure')),
    at           timestamptz NOT NULL,
    person_id    text        NOT NULL,
    role         text        NOT NULL,
    organisation text        NOT NULL,
    recipient    text,
    what         text        NOT NULL,
    purpose      text        NOT NULL,
    PRIMARY KEY (event_id, client_id)
);
CREATE INDEX IF NOT EXISTS access_report_client ON {schema}.access_report (client_id, at);

CREATE OR REPLACE FUNCTION {schema}.access_report_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the access report is append-only';
END;
$$;

DROP TRIGGER IF EXISTS access_report_append_only ON {schema}.access_report;
CREATE TRIGGER access_report_append_only BEFORE UPDATE OR DELETE ON {schema}.access_report
    FOR EACH ROW EXECUTE FUNCTION {schema}.access_report_append_only();
