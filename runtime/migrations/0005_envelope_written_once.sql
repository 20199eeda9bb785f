-- The envelope is written once (docs/adr/0012). It is kept as `json`, the text exactly
-- as appended (and so exactly the bytes the relay publishes), queryable with the JSON
-- operators and without jsonb's conversion on every append. An outbox row now names
-- its event, and the relay reads the envelope from `events`; `payload` remains for
-- outboxes whose messages are not events of this store (reporting's partner feeds).
ALTER TABLE {schema}.events ALTER COLUMN envelope TYPE json USING envelope::text::json;
ALTER TABLE {schema}.outbox ALTER COLUMN payload DROP NOT NULL;
