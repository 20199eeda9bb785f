-- Possible duplicates (docs/adr/0019). No plaintext names or codes: the look-alike key
-- is a keyed blind index (HMAC) of the normalised name and birth date, the identity key
-- the pseudonym of the code (as in client_identities). Both go on erasure.

-- Each client's look-alike key: clients sharing one may be one person under two codes.
CREATE TABLE IF NOT EXISTS {schema}.look_alike_keys (
    look_alike_key text NOT NULL,
    client_id      text NOT NULL,
    PRIMARY KEY (look_alike_key, client_id)
);
CREATE INDEX IF NOT EXISTS look_alike_keys_client ON {schema}.look_alike_keys (client_id);

-- Referrals held for the intake advisor; the referral itself (sealed) is the event on
-- its own stream, referral_id.
CREATE TABLE IF NOT EXISTS {schema}.possible_duplicates (
    referral_id   text PRIMARY KEY,
    identity_key  text        NOT NULL,
    source        text        NOT NULL,
    referral_date date        NOT NULL,
    municipality  text        NOT NULL,
    reason        text        NOT NULL,
    candidates    text[]      NOT NULL,
    held_at       timestamptz NOT NULL,
    resolution    text,
    resolved_client_id text,
    resolved_by   text,
    resolved_at   timestamptz
);
CREATE INDEX IF NOT EXISTS possible_duplicates_referral
    ON {schema}.possible_duplicates (identity_key, source, referral_date);
CREATE INDEX IF NOT EXISTS possible_duplicates_open
    ON {schema}.possible_duplicates (held_at) WHERE resolution IS NULL;
