-- The key vault (architecture decision 8, docs/adr/0011): one random 256-bit key per
-- client, outside the event log. Erasing a client sets its key to NULL; the row stays
-- as a tombstone, so no new key is ever made for an erased client.
CREATE TABLE IF NOT EXISTS {schema}.client_keys (
    client_id              text        PRIMARY KEY,
    key                    bytea,
    created_at             timestamptz NOT NULL DEFAULT now(),
    erased_at              timestamptz,
    reason                 text,
    legal_hold             boolean     NOT NULL DEFAULT false,
    relationship_closed_on date
);
CREATE INDEX IF NOT EXISTS client_keys_closed ON {schema}.client_keys (relationship_closed_on)
    WHERE erased_at IS NULL;
