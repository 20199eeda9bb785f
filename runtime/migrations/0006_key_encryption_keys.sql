-- Key-encryption keys (architecture decision 14, docs/adr/0021). Every client key in
-- client_keys is stored wrapped (AES-GCM) under a key-encryption key (KEK) that lives in
-- a file outside PostgreSQL; this table only names the KEKs, it never holds one. Exactly
-- one KEK is current (kek_current, one row): new keys are wrapped under it. Rotation makes
-- a new one current, re-wraps every live key under it, then destroys the old KEK's file.
CREATE TABLE IF NOT EXISTS {schema}.key_encryption_keys (
    id           uuid        PRIMARY KEY,
    generation   integer     NOT NULL UNIQUE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    retired_at   timestamptz,
    destroyed_at timestamptz
);
CREATE TABLE IF NOT EXISTS {schema}.kek_current (
    one        boolean     PRIMARY KEY DEFAULT true CHECK (one),
    kek_id     uuid        NOT NULL REFERENCES {schema}.key_encryption_keys (id),
    since      timestamptz NOT NULL DEFAULT now()
);
-- The KEK a row's key is wrapped under (NULL: erased, or a raw key from before wrapping,
-- which every service wraps at start).
ALTER TABLE {schema}.client_keys ADD COLUMN IF NOT EXISTS kek_id uuid;
CREATE INDEX IF NOT EXISTS client_keys_by_kek ON {schema}.client_keys (kek_id) WHERE key IS NOT NULL;
